import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditTailCommand } from '../../src/cli/audit-command.ts';
import { main } from '../../src/cli/main.ts';
import { attributeApiCalls } from '../../src/observability/api-call-attribution.ts';
import { isRecordEntry, parseAuditEntry, type AnyAuditEntry, type AuditEntry } from '../../src/observability/audit-entry.ts';
import { auditFileSink } from '../../src/observability/audit-file-sink.ts';
import { AuditLog, type AuditSink } from '../../src/observability/audit-log.ts';
import { auditStreamKey, auditStreamSink } from '../../src/observability/audit-stream-sink.ts';
import { createRedisConnection, type RedisConnection } from '../../src/redis/connection.ts';
import type { TimelineRecord } from '../../src/timeline/timeline-record.ts';
import { testRedis, testRedisUrl, uniquePrefix } from '../harness/redis.ts';

const START = Date.parse('2026-01-05T13:00:00Z');
/** A simulated wall clock the test moves. */
function manualClock(): { now: () => number; at: number } {
  const clock = { at: START, now: () => clock.at };
  return clock;
}

const order = (t: number, orderId: string): TimelineRecord => ({
  t,
  kind: 'order',
  account: 'alpha',
  orderId,
  symbol: 'ETHP',
  side: 'sell',
  amount: '1',
  price: '0',
  type: 'market',
  purpose: 'reduce',
});

const SAMPLE: TimelineRecord[] = [
  { t: 0, kind: 'mark', symbol: 'ETHP', price: '2000' },
  {
    t: 0,
    kind: 'decision',
    account: 'alpha',
    allowed: false,
    rules: ['max-position-size'],
    order: { symbol: 'ETHP', side: 'buy', amount: '1', type: 'market' },
    reasons: ['position 6 + 1 > 6'],
  },
  {
    t: 1000,
    kind: 'state',
    account: 'alpha',
    from: 'trading',
    to: 'de-risking',
    reason: 'min-margin-buffer',
    numbers: { marginBuffer: '0.08', minMarginBuffer: '0.10' },
  },
  order(1000, 'alpha-1'),
  { t: 1200, kind: 'order-update', account: 'alpha', orderId: 'alpha-1', status: 'filled', filled: '1' },
  { t: 2000, kind: 'cancel', account: 'alpha', orderId: 'alpha-2', reason: 'reduction timed out' },
  { t: 3000, kind: 'stopout', scope: 'portfolio', id: 'core', reason: 'manual', closePositions: false, action: 'set' },
  {
    t: 3000,
    kind: 'risk',
    account: 'alpha',
    position: {},
    grossNotional: '0',
    equity: '1',
    marginFraction: null,
    maintenance: '0',
    marginBuffer: null,
    sessionPnl: '0',
  },
  { t: 3000, kind: 'operator', action: 'set-stopout', scope: 'portfolio', id: 'core', result: 'ok' },
  { t: 4000, kind: 'operator', action: 'reset-stopout', scope: 'portfolio', id: 'core', result: 'refused', reason: 'still breached' },
];

/** The entries of timeline records (readAllEntries: API call entries too). */
function readEntries(path: string): AuditEntry[] {
  return readAllEntries(path).filter(isRecordEntry);
}

function readAllEntries(path: string): AnyAuditEntry[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((line, i) => {
      const parsed = parseAuditEntry(line, `line ${i + 1}`);
      if (!parsed.ok) throw new Error(parsed.problem);
      return parsed.entry;
    });
}

async function until(what: string, check: () => boolean, withinMs = 5_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('audit log: JSONL file', () => {
  it('writes one parseable entry per audited record, with at, who on operator actions, and the record unchanged', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'riskwarden-audit-')), 'nested', 'audit.jsonl');
    const clock = manualClock();
    const audit = new AuditLog({ sinks: [auditFileSink(path)], now: clock.now });
    audit.attribute({ action: 'set-stopout', scope: 'portfolio', id: 'core' }, 'cli:ops'); // before the action
    for (const record of SAMPLE) {
      clock.at = START + record.t;
      audit.observe(record);
    }
    await audit.close();

    const entries = readEntries(path);
    // mark and risk are not audited: 10 records − 2.
    expect(entries.map((e) => e.record.kind)).toEqual([
      'decision',
      'state',
      'order',
      'order-update',
      'cancel',
      'stopout',
      'operator',
      'operator',
    ]);
    expect(entries.map((e) => e.record)).toEqual(SAMPLE.filter((r) => r.kind !== 'mark' && r.kind !== 'risk'));
    // `at` is the wall clock when the record was observed (here START + t).
    expect(entries.map((e) => e.at)).toEqual(entries.map((e) => new Date(START + e.record.t).toISOString()));
    expect(entries.map((e) => e.who)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined, 'cli:ops', 'unknown']);
    expect(entries[1]!.record).toMatchObject({ reason: 'min-margin-buffer', numbers: { marginBuffer: '0.08' } });
  });

  it("appends: a second log on the same file keeps the first one's lines", async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'riskwarden-audit-')), 'audit.jsonl');
    for (const id of ['a-1', 'a-2']) {
      const audit = new AuditLog({ sinks: [auditFileSink(path)] });
      audit.observe(order(0, id));
      await audit.close();
    }
    expect(readEntries(path).map((e) => (e.record as { orderId: string }).orderId)).toEqual(['a-1', 'a-2']);
  });

  it('takes the API caller named right after the action returns (the API audit hook)', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'riskwarden-audit-')), 'audit.jsonl');
    const audit = new AuditLog({ sinks: [auditFileSink(path)] });
    const hook = attributeApiCalls(audit);
    audit.observe({ t: 0, kind: 'operator', action: 'set-stopout', scope: 'fleet', id: '*', result: 'ok' });
    hook({ who: 'admin:3f2a09c1', action: 'set-stopout', request: { scope: 'fleet' }, status: 200, result: { result: 'ok' } });
    // A call the API refused before it reached the fleet names no operator record; every call is a call entry of its own.
    hook({
      who: 'admin:3f2a09c1',
      action: 'reset-stopout',
      request: { scope: 'fleet', id: '*' },
      status: 400,
      result: { result: 'refused', reason: 'invalid request body: 1 problem; reason: required' },
    });
    audit.observe({ t: 1, kind: 'operator', action: 'reset-stopout', scope: 'fleet', id: '*', result: 'refused', reason: 'x' });
    await audit.close();
    expect(readEntries(path).map((e) => e.who)).toEqual(['api admin:3f2a09c1', 'unknown']);
    expect(readAllEntries(path).filter((e) => !isRecordEntry(e))).toMatchObject([
      { who: 'api admin:3f2a09c1', call: { action: 'set-stopout', status: 200, result: 'ok', request: { scope: 'fleet' } } },
      {
        who: 'api admin:3f2a09c1',
        call: { action: 'reset-stopout', status: 400, result: 'refused', request: { scope: 'fleet', id: '*' } },
      },
    ]);
  });
});

describe('audit log: never blocks, reports failures once per burst', () => {
  it('keeps entries while a sink fails, reports once, and reports the recovery', async () => {
    const written: string[] = [];
    let failing = true;
    let attempts = 0;
    const sink: AuditSink = {
      name: 'flaky',
      async write(lines) {
        attempts++;
        if (failing) throw new Error('disk full');
        written.push(...lines);
      },
    };
    const reports: string[] = [];
    const audit = new AuditLog({ sinks: [sink], report: (m) => reports.push(m), flushAfterMs: 1, retryAfterMs: 5 });
    for (let i = 1; i <= 20; i++) audit.observe(order(i, `alpha-${i}`));
    await until('several failed attempts', () => attempts >= 3);
    expect(reports).toEqual(['audit: flaky: disk full; entries are kept and retried']);
    failing = false;
    await audit.flush();
    expect(written.map((l) => (JSON.parse(l) as AuditEntry).record).map((r) => (r as { orderId: string }).orderId)).toEqual(
      Array.from({ length: 20 }, (_, i) => `alpha-${i + 1}`),
    );
    expect(reports).toEqual(['audit: flaky: disk full; entries are kept and retried', 'audit: flaky: writing again']);
    await audit.close();
  });

  it('drops the oldest beyond maxBuffered and says how many', async () => {
    let failing = true;
    const written: string[] = [];
    const sink: AuditSink = {
      name: 'down',
      write: async (lines) => {
        if (failing) throw new Error('down');
        written.push(...lines);
      },
    };
    const reports: string[] = [];
    const audit = new AuditLog({ sinks: [sink], report: (m) => reports.push(m), maxBuffered: 5, flushAfterMs: 1, retryAfterMs: 5 });
    for (let i = 1; i <= 12; i++) audit.observe(order(i, `o-${i}`));
    await audit.flush();
    failing = false;
    await audit.flush();
    // 12 accepted, 5 kept: o-8 … o-12.
    expect(written.map((l) => (JSON.parse(l) as { record: { orderId: string } }).record.orderId)).toEqual([
      'o-8',
      'o-9',
      'o-10',
      'o-11',
      'o-12',
    ]);
    expect(reports).toEqual([
      'audit: down: more than 5 entries waiting: dropping the oldest',
      'audit: down: down; entries are kept and retried',
      'audit: down: writing again (7 entries were dropped)',
    ]);
    expect(audit.stats().sinks.down).toEqual({ written: 5, pending: 0, dropped: 7, failing: false });
    await audit.close();
  });

  it('returns at once while a sink hangs, and closes within its bound, reporting what was not written', async () => {
    const reports: string[] = [];
    const audit = new AuditLog({
      sinks: [{ name: 'hung', write: () => new Promise<void>(() => {}) }],
      flushAfterMs: 0,
      report: (m) => reports.push(m),
    });
    for (let i = 0; i < 5_000; i++) audit.observe(order(i, `h-${i}`));
    expect(audit.stats().accepted).toBe(5_000);
    await audit.close(100);
    expect(reports).toEqual(['audit: hung: closed with 5000 entries not written']);
  });
});

describe('audit log: Redis Stream and `riskwarden audit tail`', () => {
  const raw = testRedis();
  let prefix: string;
  let connection: RedisConnection;
  let savedRedisUrl: string | undefined;
  beforeEach(async () => {
    prefix = uniquePrefix('audit');
    connection = createRedisConnection({ url: testRedisUrl() }, { retryDelayMs: 200, commandTimeoutMs: 2_000 });
    await connection.connect();
    savedRedisUrl = process.env.REDIS_URL;
    delete process.env.REDIS_URL;
  });
  afterEach(() => {
    connection.disconnect();
    if (savedRedisUrl === undefined) delete process.env.REDIS_URL;
    else process.env.REDIS_URL = savedRedisUrl;
  });
  afterAll(() => raw.quit());

  async function fill(n: number, cap?: number): Promise<void> {
    const clock = manualClock();
    const audit = new AuditLog({ sinks: [auditStreamSink({ connection, prefix, ...(cap ? { cap } : {}) })], now: clock.now });
    for (let i = 1; i <= n; i++) {
      clock.at = START + i * 1000;
      audit.observe(order(i * 1000, `alpha-${i}`));
    }
    await audit.close();
  }

  async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out, err };
  }

  it('XADDs each entry to <prefix>:audit as field data, capped with MAXLEN ~', async () => {
    await fill(400, 50);
    const key = auditStreamKey(prefix);
    expect(key).toBe(`${prefix}:audit`);
    const length = await raw.xlen(key);
    // MAXLEN ~ trims whole internal nodes (100 entries by default): at least the cap is kept, far fewer than 400.
    expect(length).toBeGreaterThanOrEqual(50);
    expect(length).toBeLessThanOrEqual(50 + 100);
    const [[, fields]] = (await raw.xrevrange(key, '+', '-', 'COUNT', 1)) as [[string, string[]]];
    expect(fields[0]).toBe('data');
    const parsed = parseAuditEntry(fields[1]!, 'newest');
    expect(parsed.ok && isRecordEntry(parsed.entry) && parsed.entry.record).toMatchObject({ kind: 'order', orderId: 'alpha-400' });
  });

  it('audit tail -n 3 prints the last three entries, oldest first', async () => {
    await fill(7);
    const { code, out, err } = await run('audit', 'tail', '--redis', testRedisUrl(), '--prefix', prefix, '-n', '3');
    expect(code, err.join('\n')).toBe(0);
    expect(out).toHaveLength(3);
    // Entries 5, 6, 7, observed 5 s, 6 s, 7 s after START.
    expect(out[0]).toMatch(/^2026-01-05T13:00:05\.000Z .*reduce order alpha-5: sell 1 ETHP market$/);
    expect(out[1]).toContain('alpha-6');
    expect(out[2]).toContain('alpha-7');

    const json = await run('audit', 'tail', '--redis', testRedisUrl(), '--prefix', prefix, '-n', '2', '--json');
    expect(json.out.map((l) => (JSON.parse(l) as AuditEntry).record)).toMatchObject([{ orderId: 'alpha-6' }, { orderId: 'alpha-7' }]);
  });

  it('audit tail --follow prints an entry written after it started, until stopped', async () => {
    await fill(2);
    const out: string[] = [];
    const err: string[] = [];
    const stop = new AbortController();
    const done = auditTailCommand(
      { redis: testRedisUrl(), prefix, n: '1', follow: true, signal: stop.signal },
      { out: (l) => out.push(l), err: (l) => err.push(l) },
    );
    await until('the tail', () => out.length === 1);
    expect(out[0]).toContain('alpha-2');

    const audit = new AuditLog({ sinks: [auditStreamSink({ connection, prefix })] });
    audit.observe({ t: 9000, kind: 'operator', action: 'set-stopout', scope: 'fleet', id: '*', result: 'ok' });
    await audit.close();
    await until('the new entry', () => out.length === 2);
    expect(out[1]).toMatch(/\[unknown\] .*operator set-stopout fleet \*: ok$/);

    stop.abort();
    expect(await done).toBe(0);
    expect(err).toEqual([]);
  });

  it('reads the JSONL file the same way, and follows it', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'riskwarden-audit-')), 'audit.jsonl');
    const audit = new AuditLog({ sinks: [auditFileSink(path)] });
    for (let i = 1; i <= 5; i++) audit.observe(order(i, `f-${i}`));
    await audit.close();

    const tail = await run('audit', 'tail', '--file', path, '-n', '3');
    expect(tail.code).toBe(0);
    expect(tail.out.map((l) => /order (f-\d)/.exec(l)?.[1])).toEqual(['f-3', 'f-4', 'f-5']);

    const out: string[] = [];
    const stop = new AbortController();
    const done = auditTailCommand({ file: path, n: '0', follow: true, signal: stop.signal }, { out: (l) => out.push(l), err: () => {} });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const more = new AuditLog({ sinks: [auditFileSink(path)] });
    more.observe(order(6, 'f-6'));
    await more.close();
    await until('the appended entry', () => out.length === 1);
    expect(out[0]).toContain('f-6');
    // A line still being written is not printed half.
    appendFileSync(path, '{"at":"2026-01-05T13:00:00.000Z","record":{"t":7,"kind":"cancel","account":"alpha",');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(out).toHaveLength(1);
    appendFileSync(path, '"orderId":"f-7","reason":"done"}}\n');
    await until('the completed line', () => out.length === 2);
    expect(out[1]).toContain('cancel f-7');
    stop.abort();
    expect(await done).toBe(0);
  });

  it('exits 2 on bad arguments, every problem named', async () => {
    expect(await run('audit', 'tail', '-n', 'three', '--redis', testRedisUrl())).toMatchObject({
      code: 2,
      err: ['riskwarden audit tail: -n: expected a whole number of entries (0 or more), got "three"'],
    });
    const both = await run('audit', 'tail', '--redis', testRedisUrl(), '--file', '/tmp/x.jsonl');
    expect(both.code).toBe(2);
    expect(both.err.join('\n')).toContain('--file and --redis: give one source, not both');
    const none = await run('audit', 'tail');
    expect(none.code).toBe(2);
    expect(none.err.join('\n')).toContain('no audit source');
    expect((await run('audit', 'tail', '--bogus')).code).toBe(2);
  });

  it('exits 1 when the file does not exist', async () => {
    const { code, err } = await run('audit', 'tail', '--file', join(tmpdir(), 'riskwarden-no-such-audit.jsonl'));
    expect(code).toBe(1);
    expect(err.join('\n')).toContain('no such file');
  });
});
