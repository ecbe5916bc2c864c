import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet, keccak256, toUtf8Bytes } from 'ethers';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { parseConfigText } from '../../src/config/load.ts';
import type { FleetConfig } from '../../src/config/fleet-schema.ts';
import { auditFileSink } from '../../src/observability/audit-file-sink.ts';
import { AuditLog } from '../../src/observability/audit-log.ts';
import { createFleetMetrics } from '../../src/observability/fleet-metrics.ts';
import { createFleetObservability } from '../../src/observability/fleet-observability.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createScrubber, REDACTED } from '../../src/observability/secret-scrubber.ts';
import type { TimelineRecord } from '../../src/timeline/timeline-record.ts';
import { testRedis, testRedisUrl, uniquePrefix } from '../harness/redis.ts';

// Real secrets of each kind: a secp256k1 private key, a 65-byte signature made with it, an API token.
const WALLET = new Wallet(keccak256(toUtf8Bytes('riskwarden redaction test key')));
const PRIVATE_KEY = WALLET.privateKey; // 0x + 64 hex
const SIGNATURE = WALLET.signMessageSync('riskwarden redaction test'); // 0x + 130 hex
const API_TOKEN = 'rwt_live_Zq8pLmN3vK7sT2wX9yB4uQ6r'; // not hex: only its context or its value gives it away
const SECRETS = { PRIVATE_KEY, SIGNATURE, API_TOKEN };

/**
 * Fails naming the first line that holds a secret — whole, without its 0x, upper-cased, or any 16
 * characters of it in a row (a key cut in half still leaks half a key).
 */
function expectNoSecret(text: string, where: string): void {
  for (const [name, secret] of Object.entries(SECRETS)) {
    const body = secret.replace(/^0x/, '');
    const needles = new Set<string>();
    for (let i = 0; i + 16 <= body.length; i++) needles.add(body.slice(i, i + 16).toLowerCase());
    for (const [n, line] of text.split('\n').entries()) {
      const lower = line.toLowerCase();
      for (const needle of needles) {
        if (lower.includes(needle)) throw new Error(`${where}, line ${n + 1}: holds (part of) ${name}: ${line.slice(0, 300)}`);
      }
    }
  }
}

function captureLogger(secrets: string[] = []) {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(line) }, secrets });
  return { logger, lines };
}

describe('secrets never reach a log line', () => {
  it('scrubs messages, fields at any depth, arrays, printf arguments, child bindings and errors (message, stack, cause)', () => {
    const { logger, lines } = captureLogger([API_TOKEN]);
    logger.info(`loaded trader key ${PRIVATE_KEY}`);
    logger.info(`glued: k=${PRIVATE_KEY}zz and upper ${PRIVATE_KEY.toUpperCase().replace('0X', '0x')}`);
    logger.info(`header Authorization: Bearer ${API_TOKEN}`);
    logger.info(`raw token ${API_TOKEN} named by its value only`);
    logger.info(
      {
        signature: SIGNATURE,
        order: { note: `sig=${SIGNATURE}`, nested: { deeper: { list: [PRIVATE_KEY, { token: API_TOKEN }, [SIGNATURE]] } } },
      },
      'order signed',
    );
    logger.warn(
      { headers: { authorization: `Bearer ${API_TOKEN}` }, privateKey: PRIVATE_KEY, password: 'hunter2-password', apiKey: API_TOKEN },
      'request',
    );
    logger.info('printf key %s and %o and %j', PRIVATE_KEY, { s: SIGNATURE }, { t: `Bearer ${API_TOKEN}` });
    logger.error(new Error(`cannot sign with ${PRIVATE_KEY}`));
    const withCause = Object.assign(new Error('outer failure', { cause: new Error(`inner: bad signature ${SIGNATURE}`) }), {
      signature: SIGNATURE,
      detail: `token=${API_TOKEN}`,
    });
    logger.error(withCause, 'failed with %s', PRIVATE_KEY);
    logger.error({ err: new Error(`token ${API_TOKEN}`), context: { error: new TypeError(PRIVATE_KEY) } }, 'nested errors');
    logger.error(new AggregateError([new Error(PRIVATE_KEY), new Error(SIGNATURE)], 'several failures'));
    const circular: Record<string, unknown> = { key2: `Bearer ${API_TOKEN}` };
    circular.self = circular;
    logger.info({ circular, map: new Map([['k', PRIVATE_KEY]]), set: new Set([SIGNATURE]) }, 'odd shapes');
    logger.child({ token: API_TOKEN, url: `redis://:${API_TOKEN}@redis.internal:6379` }).info(`child ${SIGNATURE}`);
    logger.info({ url: `https://venue.example/orders?token=${API_TOKEN}&id=7` }, 'query string');

    expect(lines).toHaveLength(14);
    const text = lines.join('');
    expectNoSecret(text, 'log');
    expect(text).not.toContain('hunter2-password');
    for (const line of lines) {
      expect(() => JSON.parse(line), line).not.toThrow();
      expect(line).toContain(REDACTED);
    }
    // What is not secret stays readable.
    const errorLine = JSON.parse(lines[7]!) as { msg: string; err: { type: string; message: string; stack: string } };
    expect(errorLine.msg).toBe(`cannot sign with ${REDACTED}`);
    expect(errorLine.err).toMatchObject({ type: 'Error', message: `cannot sign with ${REDACTED}` });
    expect(errorLine.err.stack).toMatch(/^Error: cannot sign with \[redacted\]\n\s+at /);
    const cause = JSON.parse(lines[8]!) as { msg: string; err: { cause: { message: string } } };
    expect(cause.msg).toBe(`failed with ${REDACTED}`);
    expect(cause.err.cause.message).toBe(`inner: bad signature ${REDACTED}`);
    expect(JSON.parse(lines[13]!)).toMatchObject({ url: `https://venue.example/orders?token=${REDACTED}&id=7` });
  });

  it('finds keys, signatures and bearer tokens by their shape alone, without being told the values', () => {
    const { logger, lines } = captureLogger();
    logger.info(`key ${PRIVATE_KEY} sig ${SIGNATURE} auth Bearer ${API_TOKEN}`);
    logger.info({ token: API_TOKEN, nested: { authorization: API_TOKEN, list: [{ password: API_TOKEN }] } }, 'by name');
    logger.error(new Error(`refused: Bearer ${API_TOKEN} with ${SIGNATURE}`));
    expectNoSecret(lines.join(''), 'log');
    // An address (20 bytes) is not a secret and stays.
    logger.info(`trader ${WALLET.address}`);
    expect(lines.at(-1)).toContain(WALLET.address);
  });

  it('leaves no secret in audit entries: they are scrubbed with the same scrubber (and again when printed)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'riskwarden-redact-'));
    const path = join(dir, 'audit.jsonl');
    const audit = new AuditLog({ sinks: [auditFileSink(path)], scrubber: createScrubber({ secrets: [API_TOKEN] }) });
    const records: TimelineRecord[] = [
      {
        t: 0,
        kind: 'decision',
        account: 'alpha',
        allowed: false,
        rules: ['order-invalid'],
        order: { symbol: 'ETHP', side: 'buy', amount: '1', type: 'market' },
        reasons: [`venue said: key ${PRIVATE_KEY} rejected`],
      },
      {
        t: 1,
        kind: 'state',
        account: 'alpha',
        from: 'trading',
        to: 'stopped-out',
        reason: 'stopout',
        numbers: { reason: PRIVATE_KEY.slice(2) },
      },
      {
        t: 2,
        kind: 'order-update',
        account: 'alpha',
        orderId: 'alpha-1',
        status: 'rejected',
        filled: '0',
        reason: `InvalidSignature ${SIGNATURE}`,
      },
      { t: 3, kind: 'cancel', account: 'alpha', orderId: 'alpha-2', reason: `token ${API_TOKEN}` },
      { t: 4, kind: 'stopout', scope: 'account', id: 'alpha', reason: PRIVATE_KEY, closePositions: false, action: 'set' },
      {
        t: 5,
        kind: 'operator',
        action: 'reset-stopout',
        scope: 'account',
        id: 'alpha',
        result: 'refused',
        reason: `Authorization: Bearer ${API_TOKEN}`,
      },
    ];
    audit.attribute({ action: 'reset-stopout', scope: 'account', id: 'alpha' }, `api Bearer ${API_TOKEN}`);
    for (const record of records) audit.observe(record);
    await audit.close();
    const written = readFileSync(path, 'utf8');
    expectNoSecret(written, 'audit file');
    const entries = written
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { who?: string; record: Record<string, unknown> });
    expect(entries).toHaveLength(6);
    expect(entries[4]!.record.reason).toBe(REDACTED);
    expect(entries[5]!.who).toBe(`api Bearer ${REDACTED}`);

    // A line someone else wrote with a secret in it is scrubbed when printed.
    const foreign = join(dir, 'foreign.jsonl');
    writeFileSync(
      foreign,
      `${JSON.stringify({ at: '2026-01-05T13:00:00.000Z', record: { t: 0, kind: 'cancel', account: 'a', orderId: 'a-1', reason: PRIVATE_KEY } })}\n`,
    );
    for (const json of [false, true]) {
      const out: string[] = [];
      const code = await main(['audit', 'tail', '--file', foreign, ...(json ? ['--json'] : [])], {
        out: (l) => out.push(l),
        err: (l) => out.push(l),
      });
      expect(code).toBe(0);
      expect(out.join('\n')).toContain(REDACTED);
      expectNoSecret(out.join('\n'), 'audit tail');
    }
  });

  it('cannot carry a secret into the metrics: label values come from fixed sets', async () => {
    const metrics = createFleetMetrics();
    metrics.observe({
      t: 0,
      kind: 'decision',
      account: PRIVATE_KEY,
      allowed: false,
      rules: [PRIVATE_KEY, `Bearer ${API_TOKEN}`],
      order: { symbol: 'ETHP', side: 'buy', amount: '1', type: 'market' },
    });
    metrics.observe({
      t: 0,
      kind: 'order',
      account: API_TOKEN,
      orderId: SIGNATURE,
      symbol: PRIVATE_KEY,
      side: 'buy',
      amount: '1',
      price: '0',
      type: 'market',
      purpose: SIGNATURE as 'entry',
    });
    metrics.observe({
      t: 1,
      kind: 'order-update',
      account: API_TOKEN,
      orderId: SIGNATURE,
      status: PRIVATE_KEY,
      filled: '0',
      reason: API_TOKEN,
    });
    metrics.observe({ t: 2, kind: 'state', account: API_TOKEN, from: 'trading', to: SIGNATURE as 'trading', reason: PRIVATE_KEY });
    metrics.observe({
      t: 3,
      kind: 'stopout',
      scope: API_TOKEN as 'fleet',
      id: PRIVATE_KEY,
      reason: SIGNATURE,
      closePositions: true,
      action: 'set',
    });
    metrics.setFeedStale(PRIVATE_KEY, true);
    const text = await metrics.text();
    expectNoSecret(text, 'metrics');
    expect(text).toContain('riskwarden_decisions_total{allowed="false",rule="other"} 2');
  });

  it('the live wiring scrubs notes, problems and records with the secrets the config names', () => {
    const parsed = parseConfigText('accounts: [ { id: alpha } ]\napi: { tokensEnv: { admin: OPS_TOKEN } }\n', 'fleet.yaml', {
      expect: 'fleet',
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const { logger, lines } = captureLogger();
    const notes: string[] = [];
    const observability = createFleetObservability({
      config: parsed.value as FleetConfig,
      env: { RISKWARDEN_TRADER_KEY: PRIVATE_KEY, OPS_TOKEN: API_TOKEN },
      onNote: (m) => notes.push(m),
      logger,
      metrics: createFleetMetrics(),
    });
    observability.note(`connected with ${API_TOKEN}`);
    observability.problem(`venue refused ${PRIVATE_KEY.slice(2)}`);
    const record = observability.scrubRecord({ t: 0, kind: 'cancel', account: 'alpha', orderId: 'alpha-1', reason: `as ${API_TOKEN}` });
    const untouched: TimelineRecord = { t: 0, kind: 'mark', symbol: 'ETHP', price: '2000' };
    expect(observability.scrubRecord(untouched)).toBe(untouched);
    expect(record).toEqual({ t: 0, kind: 'cancel', account: 'alpha', orderId: 'alpha-1', reason: `as ${REDACTED}` });
    expect(notes).toEqual([`connected with ${REDACTED}`, `venue refused ${REDACTED}`]);
    expectNoSecret([...lines, ...notes].join('\n'), 'notes');
    expect(lines.map((l) => (JSON.parse(l) as { level: number }).level)).toEqual([30, 40]);
  });
});

/** `riskwarden run` as a user runs it: a real process through bin/, stdout and stderr read whole. */
function runCli(args: string[], env: Record<string, string>, onErr?: (text: string, child: ReturnType<typeof spawn>) => void) {
  return new Promise<{ code: number | null; out: string; err: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/riskwarden.js', ...args], {
      env: { ...process.env, REDIS_URL: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      onErr?.(err + out, child);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      onErr?.(err + out, child);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

const FLEET = (prefix: string, extra = '') => `
venue: { traderKeyEnv: RISKWARDEN_TRADER_KEY${extra} }
accounts:
  - id: alpha
    collateral: "10000"
    budget: { maxGrossNotional: "15000", minMarginBuffer: "0.10", panicMarginBuffer: "0.03" }
redis: { prefix: ${prefix} }
api: { port: 0, tokensEnv: { admin: RISKWARDEN_ADMIN_TOKEN } }
`;

// Real processes on a shared 2-core machine: give them room.
describe('secrets never reach the CLI output', { timeout: 90_000 }, () => {
  const raw = testRedis();
  afterAll(() => raw.quit());
  const dir = mkdtempSync(join(tmpdir(), 'riskwarden-redact-cli-'));

  it('refuses a bad trader key (exit 2) without printing it', async () => {
    const file = join(dir, 'fleet.yaml');
    writeFileSync(file, FLEET(uniquePrefix('redact')));
    // Not a key at all (glued garbage), then well-formed but not on the curve (≥ the group order).
    const notOnCurve = `0x${'f'.repeat(64)}`;
    const bads = [`${PRIVATE_KEY}zz`, ` ${PRIVATE_KEY}x `, notOnCurve];
    const runs = await Promise.all(bads.map((bad) => runCli(['run', '--config', file, '--for', '5s'], { RISKWARDEN_TRADER_KEY: bad })));
    for (const { code, out, err } of runs) {
      expect(code, err).toBe(2);
      expect(err).toMatch(/trader key: RISKWARDEN_TRADER_KEY (must hold|does not hold)/);
      expectNoSecret(out + err, 'run output');
      expect(out + err).not.toContain(notOnCurve.slice(2, 30));
    }
  });

  it('refuses a key written into the config file (exit 2) without printing it', async () => {
    const file = join(dir, 'fleet-with-key.yaml');
    writeFileSync(file, FLEET(uniquePrefix('redact'), `, privateKey: "${PRIVATE_KEY}"`));
    const commands = [
      ['run', '--config', file, '--for', '5s'],
      ['check', file],
    ];
    const runs = await Promise.all(commands.map((command) => runCli(command, {})));
    for (const [i, { code, out, err }] of runs.entries()) {
      const command = commands[i]!;
      expect(code, err).toBe(2);
      expect(err).toContain('venue.privateKey: private keys are never read from config files');
      expectNoSecret(out + err, `${command[0]} output`);
    }
  });

  it('a running supervisor prints, logs and audits no secret: key in env, token, Redis password, a reason quoting the key', async () => {
    const prefix = uniquePrefix('redact');
    const file = join(dir, 'fleet-live.yaml');
    writeFileSync(file, FLEET(prefix));
    const logFile = join(dir, 'log.jsonl');
    const auditFile = join(dir, 'audit.jsonl');
    // The test Redis wants no password; one in the URL is sent anyway and must not be printed.
    const redisUrl = new URL(testRedisUrl());
    redisUrl.password = API_TOKEN;
    let posted = false;
    let stopping = false;
    const postResult: string[] = [];
    const run = await runCli(
      ['run', '--config', file, '--redis', redisUrl.toString(), '--for', '40s'],
      {
        RISKWARDEN_TRADER_KEY: PRIVATE_KEY,
        RISKWARDEN_ADMIN_TOKEN: API_TOKEN,
        RISKWARDEN_LOG_FILE: logFile,
        RISKWARDEN_AUDIT_FILE: auditFile,
      },
      (text, child) => {
        const api = /API at (http:\/\/[^/\s]+)\/api/.exec(text);
        if (api && !posted) {
          posted = true;
          // An operator who pastes the key as a stopout reason (a valid reason: letters and digits).
          void fetch(`${api[1]}/api/v1/stopouts`, {
            method: 'POST',
            headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
            body: JSON.stringify({ scope: 'account', id: 'alpha', reason: PRIVATE_KEY }),
          }).then(
            async (r) => postResult.push(`${r.status} ${(await r.text()).trim()}`),
            (e: Error) => postResult.push(e.message),
          );
        }
        if (!stopping && /operator set-stopout account alpha: ok/.test(text)) {
          stopping = true;
          // Let the audit log flush its batch, then stop the way Ctrl-C does.
          setTimeout(() => child.kill('SIGINT'), 300);
        }
      },
    );
    expect(postResult).toEqual(['200 {"result":"ok"}']);
    expect(run.code, run.err).toBe(0);
    expect(run.out).toContain(`stopout set account alpha: ${REDACTED}`);
    expectNoSecret(run.out, 'stdout');
    expectNoSecret(run.err, 'stderr');

    expect(existsSync(logFile)).toBe(true);
    const log = readFileSync(logFile, 'utf8');
    expect(log).toContain('supervising 1 account(s)');
    expectNoSecret(log, 'log file');

    const audit = readFileSync(auditFile, 'utf8');
    expect(audit).toContain('"who":"api admin:');
    expectNoSecret(audit, 'audit file');
    const stream = (await raw.xrange(`${prefix}:audit`, '-', '+')) as Array<[string, string[]]>;
    expect(stream.length).toBeGreaterThanOrEqual(3);
    expectNoSecret(stream.map(([, fields]) => fields.join(' ')).join('\n'), 'audit stream');

    const tail: string[] = [];
    expect(
      await main(['audit', 'tail', '--redis', testRedisUrl(), '--prefix', prefix, '-n', '100'], {
        out: (l) => tail.push(l),
        err: (l) => tail.push(l),
      }),
    ).toBe(0);
    expect(tail.join('\n')).toContain(`[api admin:`);
    expectNoSecret(tail.join('\n'), 'audit tail');
  });
});
