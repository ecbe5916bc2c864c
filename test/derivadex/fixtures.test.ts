import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { ackSchema, controlMessageSchema } from '../../src/derivadex/feed-messages.ts';
import { parseFrame } from '../../src/derivadex/frame-parser.ts';
import {
  deploymentInfoSchema,
  encryptionKeySchema,
  exchangeInfoBodySchema,
  markPricesPageSchema,
  orderBookL3BodySchema,
  orderUpdatesPageSchema,
  positionsBodySchema,
  strategyBodySchema,
  strategyMetricsBodySchema,
  strategyUpdatesPageSchema,
} from '../../src/derivadex/rest-bodies.ts';
import { receiptSchema, signedRequestSchema } from '../../src/derivadex/signed-requests.ts';

/*
 * The golden fixtures (shapes copied from DerivaDEX's docs and SDK, values made up; sources in
 * test/fixtures/derivadex/SOURCES.md) each parse with the protocol layer's schema for their kind.
 */

const DIR = fileURLToPath(new URL('../fixtures/derivadex/', import.meta.url));
const FILES = readdirSync(DIR).filter((name) => name.endsWith('.json'));
const SOURCES = readFileSync(`${DIR}SOURCES.md`, 'utf8');

const REST: Record<string, z.ZodType> = {
  'rest-contract-server-addresses.json': deploymentInfoSchema,
  'rest-encryption-key.json': encryptionKeySchema,
  'rest-exchange-info.json': exchangeInfoBodySchema,
  'rest-mark-prices.json': markPricesPageSchema,
  'rest-order-book-l3.json': orderBookL3BodySchema,
  'rest-order-updates.json': orderUpdatesPageSchema,
  'rest-positions.json': positionsBodySchema,
  'rest-strategy-metrics.json': strategyMetricsBodySchema,
  'rest-strategy-updates.json': strategyUpdatesPageSchema,
  'rest-strategy.json': strategyBodySchema,
};

/** The schema a fixture is checked with, by its name's kind. */
function schemaFor(name: string): z.ZodType | 'frame' {
  if (name.startsWith('rest-')) {
    const schema = REST[name];
    if (schema === undefined) throw new Error(`no schema listed for ${name}`);
    return schema;
  }
  if (name.startsWith('receipt-')) return receiptSchema;
  if (name.startsWith('request-')) return signedRequestSchema;
  if (name.startsWith('ws-ack-')) return ackSchema;
  if (name.startsWith('ws-subscribe-') || name.startsWith('ws-unsubscribe')) return controlMessageSchema;
  if (name.startsWith('ws-')) return 'frame';
  throw new Error(`fixture ${name} has no kind`);
}

function read(name: string): unknown {
  return JSON.parse(readFileSync(`${DIR}${name}`, 'utf8'));
}

describe('DerivaDEX golden fixtures (docs/derivadex-sources.md)', () => {
  it('are there, one per message kind', () => {
    expect(FILES.length).toBeGreaterThan(30);
  });

  it.each(FILES)('%s names its source in SOURCES.md and parses with its schema', (name) => {
    expect(SOURCES).toContain(`\`${name}\``);
    const schema = schemaFor(name);
    if (schema === 'frame') {
      const parsed = parseFrame(readFileSync(`${DIR}${name}`, 'utf8'));
      expect(parsed.ok ? 'ok' : `${parsed.error.path}: ${parsed.error.message}`).toBe('ok');
      if (parsed.ok) expect(parsed.frame.kind).toBe('feed');
      return;
    }
    const parsed = schema.safeParse(read(name));
    expect(parsed.success ? 'ok' : JSON.stringify(parsed.error.issues[0])).toBe('ok');
  });
});
