import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIR = fileURLToPath(new URL('../fixtures/derivadex/', import.meta.url));
const FILES = readdirSync(DIR).filter((name) => name.endsWith('.json'));
const SOURCES = readFileSync(`${DIR}SOURCES.md`, 'utf8');

describe('DerivaDEX golden fixtures (shapes from the exchange docs and SDK, docs/derivadex-sources.md)', () => {
  it('are there, one per message kind', () => {
    expect(FILES.length).toBeGreaterThan(30);
  });

  it.each(FILES)('%s is JSON and names its source in SOURCES.md', (name) => {
    expect(() => JSON.parse(readFileSync(`${DIR}${name}`, 'utf8'))).not.toThrow();
    expect(SOURCES).toContain(`\`${name}\``);
  });
});
