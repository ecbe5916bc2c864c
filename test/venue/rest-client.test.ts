import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { backoffDelay, seededRandom } from '../../src/venue/backoff.ts';
import { PATHS } from '../../src/venue/protocol.ts';
import { RestClient, VenueBodyError, VenueHttpError } from '../../src/venue/rest-client.ts';

/* The REST client against a real node:http server that answers from a script. */

interface Answer {
  status: number;
  body: unknown;
}

interface Script {
  url: string;
  seen: Array<{ method: string; url: string; contentType: string | undefined; bytes: number }>;
  answers: Answer[];
  close(): Promise<void>;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((resolve) => s.close(() => resolve()));
});

async function script(answers: Answer[]): Promise<Script> {
  const s: Script = { url: '', seen: [], answers, close: async () => {} };
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      s.seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        contentType: req.headers['content-type'],
        bytes: Buffer.concat(chunks).length,
      });
      const answer = s.answers.length > 1 ? s.answers.shift()! : s.answers[0]!;
      const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(text);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  s.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return s;
}

const ok = (value: unknown): Answer => ({ status: 200, body: { value, success: true, timestamp: 1767618000 } });
const err = (status: number, code: string, message = 'no'): Answer => ({
  status,
  body: { value: { code, message }, success: false, timestamp: 1767618000 },
});

const STATE = {
  trader: `0x${'12'.repeat(20)}`,
  strategyId: 'main',
  strategyIdHash: '0x2576ebd1',
  collateral: '10000.50',
  positions: [{ symbol: 'ETHP', side: 0, size: '1.50', avgEntryPrice: '2000.20' }],
  globalOrdinal: 9,
};
const RECEIPT = { nonce: `0x${'01'.repeat(32)}`, requestIndex: 3, sequenced: true };

function client(url: string, sleeps: number[] = [], attempts = 4): RestClient {
  return new RestClient({
    baseUrl: url,
    random: seededRandom(3),
    retry: { attempts, baseMs: 50, maxMs: 400, jitter: 0.5 },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
}

describe('RestClient', () => {
  it('unwraps the envelope, builds the query, and keeps decimals as the strings sent', async () => {
    const s = await script([ok(STATE)]);
    const state = await client(s.url).get(PATHS.strategy, { trader: STATE.trader, strategyId: 'main', skip: undefined }, 'strategy');
    expect(state.collateral).toBe('10000.50');
    expect(state.positions[0]!.avgEntryPrice).toBe('2000.20');
    expect(s.seen[0]!.url).toBe(`${PATHS.strategy}?trader=${STATE.trader}&strategyId=main`);
  });

  it('retries 429 and 503 on reads with seeded exponential backoff, then succeeds', async () => {
    const s = await script([err(429, 'RateLimit'), err(503, 'ServiceUnavailable'), err(429, 'RateLimit'), ok(STATE)]);
    const sleeps: number[] = [];
    await client(s.url, sleeps).get(PATHS.strategy, {}, 'strategy');
    expect(s.seen.length).toBe(4);
    const jitter = seededRandom(3);
    expect(sleeps).toEqual([0, 1, 2].map((n) => backoffDelay(n, { baseMs: 50, maxMs: 400, jitter: 0.5 }, jitter)));
  });

  it('gives up after the bounded attempts with a typed, retryable error', async () => {
    const s = await script([err(503, 'ServiceUnavailable', 'down')]);
    const e = await failure(client(s.url, [], 3).get(PATHS.strategy, {}, 'strategy'));
    expect(e).toBeInstanceOf(VenueHttpError);
    expect(e).toMatchObject({ status: 503, code: 'ServiceUnavailable', retryable: true });
    expect((e as Error).message).toContain('down');
    expect(s.seen.length).toBe(3);
  });

  it('never retries 412: IllegalNonce and ExpiredTimestamp surface at once', async () => {
    const s = await script([err(412, 'IllegalNonce', 'nonce used')]);
    const e = await failure(client(s.url).post(PATHS.request, new Uint8Array([1, 2, 3]), 'receipt'));
    expect(e).toMatchObject({ status: 412, code: 'IllegalNonce', retryable: false });
    expect(s.seen.length).toBe(1);
    s.answers = [err(412, 'ExpiredTimestamp')];
    expect(await failure(client(s.url).get(PATHS.strategy, {}, 'strategy'))).toMatchObject({ status: 412, code: 'ExpiredTimestamp' });
    expect(s.seen.length).toBe(2);
  });

  it('posts octet-stream; retries a 429 but not a 503 (the venue may have sequenced it)', async () => {
    const s = await script([err(429, 'RateLimit'), ok(RECEIPT)]);
    const receipt = await client(s.url).post(PATHS.request, new Uint8Array(100), 'receipt');
    expect(receipt).toEqual(RECEIPT);
    expect(s.seen.map((r) => [r.method, r.contentType, r.bytes])).toEqual([
      ['POST', 'application/octet-stream', 100],
      ['POST', 'application/octet-stream', 100],
    ]);
    s.answers = [err(503, 'ServiceUnavailable')];
    expect(await failure(client(s.url).post(PATHS.request, new Uint8Array(1), 'receipt'))).toMatchObject({ status: 503, retryable: true });
    expect(s.seen.length).toBe(3);
  });

  it('names the error from the status when the body does not', async () => {
    const s = await script([{ status: 422, body: 'oops' }]);
    expect(await failure(client(s.url).get(PATHS.strategy, {}, 'strategy'))).toMatchObject({
      status: 422,
      code: 'SafetyFailure',
      retryable: false,
    });
    s.answers = [{ status: 404, body: '' }];
    expect(await failure(client(s.url).get(PATHS.strategy, {}, 'strategy'))).toMatchObject({ status: 404, code: 'NotFound' });
  });

  it('refuses a 200 whose body is not what the path carries, naming the place', async () => {
    const s = await script([ok({ ...STATE, collateral: 10000.5 })]);
    const e = await failure(client(s.url).get(PATHS.strategy, {}, 'strategy'));
    expect(e).toBeInstanceOf(VenueBodyError);
    expect(e).toMatchObject({ code: 'bad-body', path: 'value.collateral' });
    s.answers = [{ status: 200, body: 'not json' }];
    expect(await failure(client(s.url).get(PATHS.strategy, {}, 'strategy'))).toMatchObject({ code: 'not-json' });
  });

  it('reports no answer as status 0, retryable', async () => {
    const s = await script([ok(STATE)]);
    const url = s.url;
    await new Promise<void>((resolve) => servers.pop()!.close(() => resolve()));
    const e = await failure(client(url, [], 2).get(PATHS.strategy, {}, 'strategy'));
    expect(e).toMatchObject({ status: 0, code: 'ServiceUnavailable', retryable: true });
    expect((e as Error).message).toContain('no answer');
  });
});
