import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { orderUpdateHistoryRowSchema } from '../../src/derivadex/order-update.ts';
import { PATHS } from '../../src/derivadex/paths.ts';
import { deploymentInfoSchema, encryptionKeySchema, markPriceSchema, strategySchema } from '../../src/derivadex/rest-bodies.ts';
import { backoffDelay, seededRandom } from '../../src/venue/backoff.ts';
import { RestClient, VenueBodyError, VenueHttpError, errorNameOfStatus } from '../../src/venue/rest-client.ts';

/* The REST client against a real node:http server on 127.0.0.1:0 that answers from a script, in the real shapes. */

interface Answer {
  status: number;
  /** Sent as JSON; `raw` instead sends the text as it is. */
  body?: unknown;
  raw?: string;
}

interface Script {
  url: string;
  seen: Array<{ method: string; url: string; contentType: string | undefined; bytes: number }>;
  answers: Answer[];
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((resolve) => s.close(() => resolve()));
});

/** Answers in order; the last answer repeats. A function answer sees the request URL. */
async function script(answers: Array<Answer | ((url: string) => Answer)>): Promise<Script> {
  const s: Script = { url: '', seen: [], answers: [] };
  const queue = [...answers];
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
      const next = s.answers.length > 0 ? s.answers.shift()! : queue.length > 1 ? queue.shift()! : queue[0]!;
      const answer = typeof next === 'function' ? next(req.url ?? '') : next;
      const text = answer.raw ?? JSON.stringify(answer.body);
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(text);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  s.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return s;
}

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../fixtures/derivadex/${name}.json`, import.meta.url), 'utf8'));
const envelope = (value: unknown): Answer => ({ status: 200, body: { value, success: true, timestamp: 1767618000 } });
const page = (value: unknown[], nextGlobalOrdinal: number | null): Answer => ({
  status: 200,
  body: { value, nextGlobalOrdinal, success: true, timestamp: 1767618000 },
});
/** The flat error body of the request endpoint (docs api-reference/rest/errors). */
const flat = (status: number, errorReason: string, message = 'no', safetyFailure?: string): Answer => ({
  status,
  body: { error_reason: errorReason, message, ...(safetyFailure === undefined ? {} : { safety_failure: safetyFailure }) },
});

const STRATEGY = fixture('rest-strategy') as { value: Record<string, unknown> };
const ORDER_UPDATES = fixture('rest-order-updates') as { value: Array<Record<string, unknown>>; nextGlobalOrdinal: number };
const MARK_PRICES = fixture('rest-mark-prices') as { value: Array<{ globalOrdinal: number }> };
const SEQUENCED = fixture('receipt-sequenced');
const SAFETY_FAILURE = fixture('receipt-safety-failure');
const TRADER = `0x00${'12'.repeat(20)}`;

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

describe('RestClient reads', () => {
  it('getEnveloped unwraps `value`, builds the query (arrays repeat), and keeps decimals as the strings sent', async () => {
    const s = await script([{ status: 200, body: STRATEGY }]);
    const strategy = await client(s.url).getEnveloped(
      PATHS.strategy,
      { trader: TRADER, strategyId: 'main', skip: undefined, reason: [0, 3], orderHash: ['0xaa', '0xbb'] },
      strategySchema.nullable(),
    );
    expect(strategy?.availCollateral).toBe('10012.5');
    expect(s.seen[0]!.url).toBe(`${PATHS.strategy}?trader=${TRADER}&strategyId=main&reason=0&reason=3&orderHash=0xaa&orderHash=0xbb`);
  });

  it('getPage returns the rows and the cursor; getAllPages follows it as globalOrdinal until null', async () => {
    const mark = MARK_PRICES.value[0]!;
    const rows = [mark, { ...mark, globalOrdinal: mark.globalOrdinal + 1, price: '2451.4' }];
    const s = await script([page([rows[0]], 7), page([rows[1]], 9), page([], null)]);
    const first = await client(s.url).getPage(PATHS.markPrices, { symbol: 'ETHP' }, markPriceSchema);
    expect(first).toEqual({ rows: [rows[0]], nextGlobalOrdinal: 7 });
    const all = await client(s.url).getAllPages(PATHS.markPrices, { symbol: 'ETHP', globalOrdinal: 7 }, markPriceSchema, { limit: 1 });
    expect(all).toEqual({ rows: [rows[1]], nextGlobalOrdinal: null });
    expect(s.seen.map((r) => r.url)).toEqual([
      `${PATHS.markPrices}?symbol=ETHP`,
      `${PATHS.markPrices}?symbol=ETHP&globalOrdinal=7&limit=1`,
      `${PATHS.markPrices}?symbol=ETHP&globalOrdinal=9&limit=1`,
    ]);
  });

  it('getAllPages stops at an empty page, and at maxPages keeping the cursor it would read next', async () => {
    const row = ORDER_UPDATES.value[0]!;
    const s = await script([(url) => page([row], Number(new URLSearchParams(url.split('?')[1]).get('globalOrdinal') ?? '0') + 1)]);
    const capped = await client(s.url).getAllPages(PATHS.orderUpdates, { trader: TRADER }, orderUpdateHistoryRowSchema, { maxPages: 3 });
    expect(capped.rows.length).toBe(3);
    expect(capped.nextGlobalOrdinal).toBe(3);
    s.answers = [page([row], 5), page([row], 5)];
    expect(await failure(client(s.url).getAllPages(PATHS.orderUpdates, { globalOrdinal: 4 }, orderUpdateHistoryRowSchema))).toMatchObject({
      code: 'bad-body',
      path: 'nextGlobalOrdinal',
    });
    s.answers = [page([], 44)];
    expect(await client(s.url).getAllPages(PATHS.orderUpdates, {}, orderUpdateHistoryRowSchema)).toEqual({
      rows: [],
      nextGlobalOrdinal: null,
    });
  });

  it('getBare reads bare bodies: the encryption key string and the deployment info', async () => {
    const s = await script([
      { status: 200, body: fixture('rest-encryption-key') },
      { status: 200, body: fixture('rest-contract-server-addresses') },
    ]);
    expect(await client(s.url).getBare(PATHS.encryptionKey, {}, encryptionKeySchema)).toBe(fixture('rest-encryption-key'));
    const info = await client(s.url).getBare(PATHS.deploymentInfo, { contractDeployment: 'testnet' }, deploymentInfoSchema);
    expect(info.addresses.derivaDEXAddress).toBe('0x5d1a3b4181d3cad422f404f28e9e972d0ba4dad6');
    expect(s.seen[1]!.url).toBe(`${PATHS.deploymentInfo}?contractDeployment=testnet`);
  });

  it('retries 429, 421 and 503 on reads with seeded exponential backoff, then succeeds', async () => {
    // fetch itself sends a request again once on a new connection after a 421 (Fetch standard, HTTP-network-or-cache
    // fetch step for status 421): the client sees a 421 only when the second one is a 421 too.
    const misdirected = flat(421, 'NotAcceptingRequests');
    const s = await script([flat(429, 'RateLimit'), misdirected, misdirected, { status: 503, raw: '' }, envelope(STRATEGY.value)]);
    const sleeps: number[] = [];
    await client(s.url, sleeps).getEnveloped(PATHS.strategy, {}, strategySchema.nullable());
    expect(s.seen.length).toBe(5);
    const jitter = seededRandom(3);
    expect(sleeps).toEqual([0, 1, 2].map((n) => backoffDelay(n, { baseMs: 50, maxMs: 400, jitter: 0.5 }, jitter)));
  });

  it('gives up after the bounded attempts with a typed, retryable error', async () => {
    const s = await script([flat(503, 'ServiceUnavailable', 'down')]);
    const e = await failure(client(s.url, [], 3).getEnveloped(PATHS.strategy, {}, strategySchema));
    expect(e).toBeInstanceOf(VenueHttpError);
    expect(e).toMatchObject({ status: 503, code: 'ServiceUnavailable', retryable: true });
    expect((e as Error).message).toContain('down');
    expect(s.seen.length).toBe(3);
  });

  it('names a read error from the status when the body does not: 404 NotFound, `{success:false}`', async () => {
    const s = await script([{ status: 404, raw: '' }]);
    expect(await failure(client(s.url).getEnveloped(PATHS.strategy, {}, strategySchema))).toMatchObject({ status: 404, code: 'NotFound' });
    s.answers = [{ status: 400, body: { success: false } }];
    expect(await failure(client(s.url).getEnveloped(PATHS.strategy, {}, strategySchema))).toMatchObject({
      status: 400,
      code: 'InvalidRequestPayload',
      retryable: false,
    });
    s.answers = [{ status: 200, body: { success: false } }];
    expect(await failure(client(s.url).getEnveloped(PATHS.strategy, {}, strategySchema))).toMatchObject({
      status: 200,
      code: 'InternalServerError',
    });
  });

  it('refuses a 200 whose body is not what the path carries, naming the place', async () => {
    const rows = structuredClone(ORDER_UPDATES.value);
    const broken = rows[rows.length - 1]!;
    (broken.makerOrderIntent as Record<string, unknown>).orderHash = '0x12';
    const s = await script([page(rows, null)]);
    const e = await failure(client(s.url).getPage(PATHS.orderUpdates, {}, orderUpdateHistoryRowSchema));
    expect(e).toBeInstanceOf(VenueBodyError);
    expect(e).toMatchObject({ code: 'bad-body', path: `value[${rows.length - 1}].makerOrderIntent.orderHash` });
    expect((e as Error).message).toContain(`value[${rows.length - 1}].makerOrderIntent.orderHash: expected 25-byte hex`);
    s.answers = [{ status: 200, body: { value: STRATEGY.value, success: 'yes', timestamp: 1 } }];
    expect(await failure(client(s.url).getEnveloped(PATHS.strategy, {}, strategySchema))).toMatchObject({
      code: 'bad-envelope',
      path: 'success',
    });
    s.answers = [{ status: 200, raw: 'not json' }];
    expect(await failure(client(s.url).getEnveloped(PATHS.strategy, {}, strategySchema))).toMatchObject({ code: 'not-json' });
    s.answers = [{ status: 200, raw: '"0x12"' }];
    expect(await failure(client(s.url).getBare(PATHS.encryptionKey, {}, encryptionKeySchema))).toMatchObject({
      code: 'bad-body',
      path: '',
    });
  });

  it('reports no answer as status 0, retryable', async () => {
    const s = await script([{ status: 200, body: STRATEGY }]);
    const url = s.url;
    await new Promise<void>((resolve) => servers.pop()!.close(() => resolve()));
    const e = await failure(client(url, [], 2).getEnveloped(PATHS.strategy, {}, strategySchema));
    expect(e).toMatchObject({ status: 0, code: 'ServiceUnavailable', retryable: true });
    expect((e as Error).message).toContain('no answer');
  });
});

describe('RestClient.postRequest', () => {
  it('posts octet-stream to /v2/request and returns the bare receipt, Sequenced or SafetyFailure', async () => {
    const s = await script([
      { status: 200, body: SEQUENCED },
      { status: 200, body: SAFETY_FAILURE },
    ]);
    expect(await client(s.url).postRequest(new Uint8Array(100))).toEqual(SEQUENCED);
    expect(await client(s.url).postRequest(new Uint8Array(100))).toEqual(SAFETY_FAILURE);
    expect(s.seen.map((r) => [r.method, r.url, r.contentType, r.bytes])).toEqual([
      ['POST', PATHS.request, 'application/octet-stream', 100],
      ['POST', PATHS.request, 'application/octet-stream', 100],
    ]);
  });

  it('names errors by the body`s error_reason: 412 and 422 each have several', async () => {
    const s = await script([flat(412, 'FutureTimestamp', 'ahead')]);
    const future = await failure(client(s.url).postRequest(new Uint8Array(1)));
    expect(future).toMatchObject({ status: 412, code: 'FutureTimestamp', retryable: false });
    expect((future as Error).message).toBe(`POST ${PATHS.request}: FutureTimestamp: ahead`);
    for (const reason of ['IllegalNonce', 'ExpiredTimestamp']) {
      s.answers = [flat(412, reason)];
      expect(await failure(client(s.url).postRequest(new Uint8Array(1)))).toMatchObject({ status: 412, code: reason });
    }
    s.answers = [flat(422, 'SafetyFailure', 'tick', 'PriceNotMultipleOfTickSize')];
    expect(await failure(client(s.url).postRequest(new Uint8Array(1)))).toMatchObject({
      status: 422,
      code: 'SafetyFailure',
      safetyFailure: 'PriceNotMultipleOfTickSize',
    });
    s.answers = [flat(422, 'InvalidEncryption')];
    expect(await failure(client(s.url).postRequest(new Uint8Array(1)))).toMatchObject({ status: 422, code: 'InvalidEncryption' });
    s.answers = [flat(401, 'SignerNotFound')];
    expect(await failure(client(s.url).postRequest(new Uint8Array(1)))).toMatchObject({ status: 401, code: 'SignerNotFound' });
    expect(s.seen.length).toBe(6); // none of them retried
  });

  it('falls back to the status when the error body is unreadable', async () => {
    const s = await script([{ status: 412, raw: 'oops' }]);
    expect(await failure(client(s.url).postRequest(new Uint8Array(1)))).toMatchObject({ status: 412, code: 'IllegalNonce' });
    s.answers = [{ status: 422, body: { error_reason: 'Nonsense' } }];
    expect(await failure(client(s.url).postRequest(new Uint8Array(1)))).toMatchObject({ status: 422, code: 'InvalidEncryption' });
    s.answers = [{ status: 404, raw: '' }];
    expect(await failure(client(s.url).postRequest(new Uint8Array(1)))).toMatchObject({ status: 404, code: 'KycNotFound' });
    expect([400, 401, 403, 421, 429, 500, 502, 503].map((status) => errorNameOfStatus(status, 'request'))).toEqual([
      'InvalidRequestPayload',
      'SignerNotFound',
      'Forbidden',
      'NotAcceptingRequests',
      'RateLimit',
      'InternalServerError',
      'ServiceUnavailable',
      'ServiceUnavailable',
    ]);
  });

  it('retries a 429 but not a 421, 503 or lost answer (the venue may have sequenced it)', async () => {
    const s = await script([flat(429, 'RateLimit'), { status: 200, body: SEQUENCED }]);
    expect(await client(s.url).postRequest(new Uint8Array(10))).toEqual(SEQUENCED);
    expect(s.seen.length).toBe(2);
    s.answers = [flat(503, 'ServiceUnavailable')];
    expect(await failure(client(s.url).postRequest(new Uint8Array(1)))).toMatchObject({ status: 503, retryable: true });
    // A 421 means the gateway took nothing in: fetch's own resend of the same bytes (see above) is harmless.
    s.answers = [flat(421, 'NotAcceptingRequests'), flat(421, 'NotAcceptingRequests')];
    expect(await failure(client(s.url).postRequest(new Uint8Array(1)))).toMatchObject({ status: 421, code: 'NotAcceptingRequests' });
    expect(s.seen.length).toBe(5);
  });

  it('refuses a receipt that is not a TradeReceipt, naming the place', async () => {
    const s = await script([{ status: 200, body: { t: 'Sequenced', c: { ...(SEQUENCED as { c: object }).c, requestIndex: -1 } } }]);
    expect(await failure(client(s.url).postRequest(new Uint8Array(1)))).toMatchObject({ code: 'bad-body', path: 'c.requestIndex' });
    s.answers = [{ status: 200, body: { value: SEQUENCED, success: true, timestamp: 1 } }];
    expect(await failure(client(s.url).postRequest(new Uint8Array(1)))).toMatchObject({ code: 'bad-body', path: 't' });
  });
});
