import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createActor } from 'xstate';
import YAML from 'yaml';
import { z } from 'zod';
import type { AccountEvent } from '../machines/account-context.ts';
import { persistedSnapshot, restorableAccount } from '../machines/restorable-account.ts';
import { parseConfigText } from '../src/config/load.ts';
import type { ScenarioConfig } from '../src/config/scenario-schema.ts';
import { controlMessageSchema } from '../src/derivadex/feed-messages.ts';
import { parseFrame, type FrameErrorCode } from '../src/derivadex/frame-parser.ts';
import { orderUpdateHistoryRowSchema } from '../src/derivadex/order-update.ts';
import {
  deploymentInfoSchema,
  encryptionKeySchema,
  exchangeInfoSchema,
  markPriceSchema,
  orderBookL3EntrySchema,
  positionSchema,
  strategyMetricsSchema,
  strategySchema,
} from '../src/derivadex/rest-bodies.ts';
import { signedRequestSchema } from '../src/derivadex/signed-requests.ts';
import { strategyUpdateHistoryRowSchema } from '../src/derivadex/strategy-update.ts';
import { SnapshotRefusedError } from '../src/persistence/snapshot-refusal.ts';
import { decodeStoredSnapshot, encodeStoredSnapshot } from '../src/persistence/stored-snapshot.ts';
import { checkPersistedAccount } from '../src/runtime/account-takeover.ts';
import { provideAccountEffects } from '../src/runtime/account-effects.ts';
import { planFleet } from '../src/runtime/fleet-plan.ts';
import { scenarioProducts } from '../src/scenario/scenario-runner.ts';
import { RestClient, VenueBodyError, VenueHttpError } from '../src/venue/rest-client.ts';
import { accountContext, T0 } from '../test/machines/account-fixture.ts';
import { deepNesting, mutateJson, mutateText, randomJson } from './mutate.ts';
import type { Random } from './random.ts';

/**
 * What the fuzz campaign feeds, target by target: each makes one input from a `Random` and judges how the
 * code under test took it. `accepted` and `rejected` (with a typed error naming the place) are fine;
 * `untyped` is a rejection without one (a failure); an exception thrown out of `check` is a crash.
 */
export type Verdict = { kind: 'accepted' } | { kind: 'rejected' } | { kind: 'untyped'; why: string };

export interface FuzzTarget<I = unknown> {
  name: string;
  /** What it feeds, for the report. */
  what: string;
  /** Relative share of the inputs. */
  weight: number;
  make(rng: Random): I;
  check(input: I): Verdict | Promise<Verdict>;
  /** The input as saved under test-artifacts/torture/ when it crashed something. */
  show(input: I): string;
}

const FIXTURES = fileURLToPath(new URL('../test/fixtures/derivadex/', import.meta.url));
const CONFIG = fileURLToPath(new URL('../config/', import.meta.url));

function fixtures(prefix: string): { name: string; text: string; value: unknown }[] {
  return readdirSync(FIXTURES)
    .filter((n) => n.startsWith(prefix) && n.endsWith('.json'))
    .sort()
    .map((name) => {
      const text = readFileSync(`${FIXTURES}${name}`, 'utf8');
      return { name, text, value: JSON.parse(text) as unknown };
    });
}

/** A mutated variant of one of `bases`: structural most of the time, textual, random or pathological otherwise. */
function variant(rng: Random, bases: readonly { text: string; value: unknown }[]): string {
  const base = rng.pick(bases);
  const r = rng.next();
  if (r < 0.6) return JSON.stringify(mutateJson(base.value, rng));
  if (r < 0.85) return mutateText(base.text, rng);
  if (r < 0.95) return JSON.stringify(randomJson(rng));
  if (r < 0.99) return deepNesting(rng.int(1_000, 20_000), rng.chance(0.5) ? '[' : '{"a":', rng.chance(0.5) ? ']' : '}');
  return rng.chance(0.5) ? '' : JSON.stringify(base.value).repeat(rng.int(2, 50));
}

const FRAME_CODES: readonly FrameErrorCode[] = ['not-text', 'not-json', 'bad-shape', 'unknown-feed', 'bad-row'];

/** Every inbound WebSocket frame: parseFrame, documented as total. */
export const framesTarget: FuzzTarget<{ text: string; binary: boolean }> = {
  name: 'ws-frames',
  what: 'mutated test/fixtures/derivadex/ws-*.json and random JSON through parseFrame (src/derivadex/frame-parser.ts)',
  weight: 4,
  make: (() => {
    const bases = fixtures('ws-');
    return (rng: Random) => ({ text: variant(rng, bases), binary: rng.chance(0.03) });
  })(),
  check({ text, binary }) {
    const parsed = binary ? parseFrame(Buffer.from(text), true) : parseFrame(text);
    if (parsed.ok) return { kind: 'accepted' };
    const e = parsed.error;
    if (!FRAME_CODES.includes(e.code) || typeof e.path !== 'string' || typeof e.message !== 'string' || e.message === '')
      return { kind: 'untyped', why: `FrameError without a known code, a path and a message: ${JSON.stringify(e).slice(0, 300)}` };
    return { kind: 'rejected' };
  },
  show: ({ text, binary }) => `${binary ? '(binary frame)\n' : ''}${text}`,
};

type Read = (client: RestClient) => Promise<unknown>;

/** Each REST fixture with the read the venue client makes of it. */
const REST_READS: Record<string, Read> = {
  'rest-contract-server-addresses.json': (c) => c.getBare('/contract-server/addresses', {}, deploymentInfoSchema),
  'rest-encryption-key.json': (c) => c.getBare('/v2/encryption-key', {}, encryptionKeySchema),
  'rest-exchange-info.json': (c) => c.getEnveloped('/exchange/api/v1/exchange_info', {}, exchangeInfoSchema),
  'rest-mark-prices.json': (c) => c.getPage('/exchange/api/v1/mark_prices', {}, markPriceSchema),
  'rest-order-book-l3.json': (c) => c.getEnveloped('/exchange/api/v1/order_book', {}, z.array(orderBookL3EntrySchema)),
  'rest-order-updates.json': (c) => c.getPage('/exchange/api/v1/order_updates', {}, orderUpdateHistoryRowSchema),
  'rest-positions.json': (c) => c.getEnveloped('/exchange/api/v1/positions', {}, z.array(positionSchema)),
  'rest-strategy-metrics.json': (c) => c.getEnveloped('/stats/api/v1/strategy_metrics', {}, strategyMetricsSchema),
  'rest-strategy-updates.json': (c) => c.getPage('/exchange/api/v1/strategy_updates', {}, strategyUpdateHistoryRowSchema),
  'rest-strategy.json': (c) => c.getEnveloped('/exchange/api/v1/strategy', {}, strategySchema.nullable()),
  'receipt-safety-failure.json': (c) => c.postRequest(new Uint8Array([1])),
  'receipt-sequenced.json': (c) => c.postRequest(new Uint8Array([1])),
};

const ERROR_BODY = { error_reason: 'RateLimit', safety_failure: null, message: 'slow down' };

/** REST answers through the real RestClient (a fetch that answers the mutated body): a value or a typed error. */
export const restTarget: FuzzTarget<{ fixture: string; status: number; text: string }> = {
  name: 'rest-bodies',
  what: 'mutated test/fixtures/derivadex/rest-*.json, receipt-*.json and error bodies through RestClient (src/venue/rest-client.ts)',
  weight: 2,
  make: (() => {
    const bases = [...fixtures('rest-'), ...fixtures('receipt-')];
    const errorBase = { text: JSON.stringify(ERROR_BODY), value: ERROR_BODY };
    return (rng: Random) => {
      if (rng.chance(0.15)) {
        // A refused request: any status, a mutated error body.
        return {
          fixture: 'receipt-sequenced.json',
          status: rng.pick([400, 403, 412, 421, 422, 429, 500, 503, 599]),
          text: variant(rng, [errorBase]),
        };
      }
      const base = rng.pick(bases);
      return { fixture: base.name, status: rng.chance(0.05) ? rng.pick([201, 204, 404]) : 200, text: variant(rng, [base]) };
    };
  })(),
  async check({ fixture, status, text }) {
    const read = REST_READS[fixture];
    if (!read) throw new Error(`torture: no read listed for ${fixture}`);
    const fetch = async (): Promise<Response> => new Response(status === 204 ? null : text, { status });
    const client = new RestClient({ baseUrl: 'http://venue.invalid', fetch, retry: { attempts: 1 }, sleep: async () => {}, timeoutMs: 0 });
    try {
      await read(client);
      return { kind: 'accepted' };
    } catch (error) {
      if (error instanceof VenueBodyError || error instanceof VenueHttpError) return { kind: 'rejected' };
      throw error;
    }
  },
  show: ({ fixture, status, text }) => `(answer to the read of ${fixture}, HTTP ${status})\n${text}`,
};

/** What the simulator reads from a client: signed requests and feed subscriptions. */
export const requestsTarget: FuzzTarget<{ schema: 'request' | 'control'; text: string }> = {
  name: 'signed-requests',
  what: 'mutated request-*.json through signedRequestSchema and ws-subscribe/unsubscribe through controlMessageSchema (src/derivadex/)',
  weight: 1,
  make: (() => {
    const requests = fixtures('request-');
    const controls = [...fixtures('ws-subscribe-'), ...fixtures('ws-unsubscribe')];
    return (rng: Random) =>
      rng.chance(0.6)
        ? { schema: 'request' as const, text: variant(rng, requests) }
        : { schema: 'control' as const, text: variant(rng, controls) };
  })(),
  check({ schema, text }) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { kind: 'rejected' };
    }
    const parsed = (schema === 'request' ? signedRequestSchema : controlMessageSchema).safeParse(value);
    if (parsed.success) return { kind: 'accepted' };
    if (parsed.error.issues.length === 0 || parsed.error.issues.some((i) => !Array.isArray(i.path) || typeof i.message !== 'string'))
      return { kind: 'untyped', why: 'a ZodError without issues with paths' };
    return { kind: 'rejected' };
  },
  show: ({ schema, text }) => `(${schema})\n${text}`,
};

const quietAccount = provideAccountEffects({
  sendOrder: () => {},
  cancelOrder: () => {},
  decision: () => {},
  raiseStopout: () => {},
  reset: () => {},
});

/** Real stored snapshots of an account: fresh, long, de-risking with a reduction in flight, stopped out. */
function snapshotBases(): { text: string; value: unknown }[] {
  const actor = createActor(quietAccount, { input: accountContext() });
  actor.start();
  const bases: unknown[] = [];
  const keep = () => bases.push({ snapshot: actor.getPersistedSnapshot(), orderHashes: {} });
  keep();
  const events: AccountEvent[] = [
    { type: 'ENTRY_REQUEST', order: { symbol: 'ETHP', side: 'buy', amount: '1', type: 'market' } },
    { type: 'LEDGER', at: T0 + 1000, event: { kind: 'fill', id: 'f1', seq: 1, symbol: 'ETHP', side: 'buy', amount: '1', price: '2000' } },
    { type: 'ORDER_UPDATE', clientOrderId: 'alpha-1', status: 'filled', filled: '1', at: T0 + 1000 },
  ];
  for (const e of events) actor.send(e);
  keep();
  actor.send({ type: 'MARK', symbol: 'ETHP', price: '1850', at: T0 + 2000 });
  const pending = Object.keys(actor.getSnapshot().context.orders);
  bases.push({
    snapshot: actor.getPersistedSnapshot(),
    orderHashes: Object.fromEntries(pending.map((id) => [id, `0x${'ab'.repeat(25)}`])),
  });
  actor.send({ type: 'STOPOUT_SET', stopout: { scope: 'fleet', id: '*', reason: 'manual', closePositions: false } });
  keep();
  actor.stop();
  return bases.map((snapshot, i) => {
    const text = encodeStoredSnapshot('alpha', snapshot, { owner: 'torture', at: T0, version: i + 1 });
    return { text, value: JSON.parse(text) as unknown };
  });
}

/** Fields inside a persisted account snapshot worth corrupting on purpose (the rest is reached at random). */
function corruptSnapshot(value: unknown, rng: Random): unknown {
  const v = structuredClone(value) as { snapshot?: { snapshot?: Record<string, unknown> } };
  const inner = v.snapshot?.snapshot;
  if (!inner) return v;
  switch (rng.int(0, 5)) {
    case 0:
      inner.value = rng.pick(['no-such-state', { 'stopped-out': 'nowhere' }, { 'de-risking': 'idle' }, 42, null, '']);
      break;
    case 1:
      inner.status = rng.pick(['active', 'done', 'error', 'weird', null]);
      break;
    case 2:
      inner.context = mutateJson(inner.context, rng);
      break;
    case 3:
      delete inner.context;
      break;
    case 4:
      inner.children = { x: { snapshot: {}, src: 'nothing' } };
      break;
    default:
      inner.historyValue = randomJson(rng);
  }
  return v;
}

/**
 * A snapshot read back from the store, restored the way a takeover does it (decode with the takeover's
 * check, spawn the account from it), then driven a little. A refusal is a SnapshotRefusedError listing
 * its problems by path; anything else thrown — by the checks, by XState's restore or by the account on
 * its next events — is a crash: in a supervisor it is thrown out of SPAWN or an event.
 */
export const snapshotsTarget: FuzzTarget<{ text: string }> = {
  name: 'snapshots',
  what: 'mutated stored account snapshots through decodeStoredSnapshot with checkPersistedAccount (a takeover), persistedSnapshot and a restored actor driven with a mark, a tick and an entry',
  weight: 1,
  make: (() => {
    const bases = snapshotBases();
    return (rng: Random) => {
      if (rng.chance(0.4)) return { text: JSON.stringify(corruptSnapshot(rng.pick(bases).value, rng)) };
      return { text: variant(rng, bases) };
    };
  })(),
  check({ text }) {
    const where = 'Redis value at riskwarden:snapshot:{alpha}:alpha';
    let persisted: ReturnType<typeof persistedSnapshot>;
    try {
      // As a takeover reads it (src/runtime/account-takeover.ts), then resumes (FleetRuntime.resumeAccount).
      const stored = decodeStoredSnapshot('alpha', where, text, checkPersistedAccount);
      persisted = persistedSnapshot('snapshot of alpha', (stored.snapshot as { snapshot?: unknown }).snapshot);
    } catch (error) {
      if (error instanceof SnapshotRefusedError && error.problems.length > 0) return { kind: 'rejected' };
      throw error;
    }
    let failed: unknown;
    const actor = createActor(restorableAccount(quietAccount), { input: { persisted } });
    actor.subscribe({ error: (error) => void (failed = error) });
    actor.start();
    const now = actor.getSnapshot().context?.now ?? T0;
    actor.send({ type: 'MARK', symbol: 'ETHP', price: '1900', at: now + 1000 });
    actor.send({ type: 'TICK', at: now + 20_000 });
    actor.send({ type: 'ENTRY_REQUEST', order: { symbol: 'ETHP', side: 'buy', amount: '1', type: 'market' } });
    const status = actor.getSnapshot().status;
    actor.stop();
    if (failed !== undefined) throw failed;
    if (status === 'error') throw new Error('the restored account actor ended in status "error"');
    return { kind: 'accepted' };
  },
  show: ({ text }) => text,
};

/** The files without their comments (mutating a comment tests nothing, and parsing it costs time). */
function configBases(files: string[]): { name: string; text: string; value: unknown }[] {
  return files.map((path) => {
    const value = YAML.parse(readFileSync(path, 'utf8')) as unknown;
    return { name: path, text: YAML.stringify(value), value };
  });
}

/** A config or scenario text: the file mutated as YAML text, or its document mutated and written as YAML or JSON. */
function configVariant(rng: Random, bases: readonly { text: string; value: unknown }[]): { text: string; fileName: string } {
  const base = rng.pick(bases);
  const r = rng.next();
  // YAML costs ten times what JSON does to parse: a fifth each of YAML text and YAML documents keeps the
  // count up while both syntaxes stay covered.
  if (r < 0.2) return { text: mutateText(base.text, rng), fileName: 'fuzz.yaml' };
  const doc = mutateJson(base.value, rng);
  if (r < 0.4) return { text: YAML.stringify(doc), fileName: 'fuzz.yaml' };
  if (r < 0.97) return { text: JSON.stringify(doc), fileName: 'fuzz.json' };
  return { text: deepNesting(rng.int(100, 20_000), '[', ']'), fileName: rng.chance(0.5) ? 'fuzz.json' : 'fuzz.yaml' };
}

/**
 * parseConfigText (src/config/load.ts) says it never throws: problems come back with paths. A problem
 * from its last-resort catch ("could not be validated: …") means a validator threw: counted as untyped.
 * An accepted scenario is also planned (the fleet plan) the way simulate would, which must not throw.
 */
function configCheck(expect: 'fleet' | 'scenario') {
  return ({ text, fileName }: { text: string; fileName: string }): Verdict => {
    const loaded = parseConfigText(text, fileName, { expect });
    if (loaded.ok) {
      if (loaded.kind === 'scenario') planFleet(loaded.value as ScenarioConfig, scenarioProducts(loaded.value));
      return { kind: 'accepted' };
    }
    if (loaded.problems.length === 0) return { kind: 'untyped', why: 'rejected with no problems listed' };
    const bad = loaded.problems.find(
      (p) => typeof p.path !== 'string' || p.path === '' || typeof p.message !== 'string' || p.message === '',
    );
    if (bad) return { kind: 'untyped', why: `a problem without a path or message: ${JSON.stringify(bad)}` };
    const caught = loaded.problems.find((p) => p.message.startsWith('could not be validated'));
    if (caught) return { kind: 'untyped', why: `a validator threw (caught by the last resort): ${caught.message}` };
    return { kind: 'rejected' };
  };
}

export const configsTarget: FuzzTarget<{ text: string; fileName: string }> = {
  name: 'configs',
  what: 'mutated config/fleet.example.yaml and config/fleet.compose.yaml (YAML text, YAML and JSON documents) through parseConfigText',
  weight: 1,
  make: (() => {
    const bases = configBases([`${CONFIG}fleet.example.yaml`, `${CONFIG}fleet.compose.yaml`]);
    return (rng: Random) => configVariant(rng, bases);
  })(),
  check: configCheck('fleet'),
  show: ({ text, fileName }) => `(${fileName})\n${text}`,
};

export const scenariosTarget: FuzzTarget<{ text: string; fileName: string }> = {
  name: 'scenarios',
  what: 'mutated config/scenarios/*.yaml (YAML text, YAML and JSON documents) through parseConfigText, then planFleet when accepted',
  weight: 1,
  make: (() => {
    const dir = `${CONFIG}scenarios/`;
    const bases = configBases(
      readdirSync(dir)
        .filter((n) => n.endsWith('.yaml'))
        .sort()
        .map((n) => `${dir}${n}`),
    );
    return (rng: Random) => configVariant(rng, bases);
  })(),
  check: configCheck('scenario'),
  show: ({ text, fileName }) => `(${fileName})\n${text}`,
};

/** A target with its input type hidden: one trial makes the input and checks it. */
export interface Trial {
  show(): string;
  check(): Verdict | Promise<Verdict>;
}

export interface AnyTarget {
  name: string;
  what: string;
  weight: number;
  trial(rng: Random): Trial;
}

function erase<I>(target: FuzzTarget<I>): AnyTarget {
  return {
    name: target.name,
    what: target.what,
    weight: target.weight,
    trial(rng) {
      const input = target.make(rng);
      return { show: () => target.show(input), check: () => target.check(input) };
    },
  };
}

export const FUZZ_TARGETS: readonly AnyTarget[] = [
  erase(framesTarget),
  erase(restTarget),
  erase(requestsTarget),
  erase(snapshotsTarget),
  erase(configsTarget),
  erase(scenariosTarget),
];
