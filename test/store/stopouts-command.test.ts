import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { IN_MEMORY_NOTICE } from '../../src/cli/stopouts-command.ts';
import { createRedisStopoutStore } from '../../src/store/redis-stopout-store.ts';
import { freeLoopbackPort } from '../harness/redis-process.ts';
import { testRedis, testRedisUrl, uniquePrefix } from '../harness/redis.ts';

// `riskwarden stopouts …` lives in src/cli; its tests sit here with the store they drive.

async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

const ISO = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/.source;

describe('riskwarden stopouts', () => {
  const raw = testRedis();
  let prefix: string;
  let savedRedisUrl: string | undefined;
  beforeEach(() => {
    prefix = uniquePrefix('cli');
    // The store is chosen from --redis, REDIS_URL and --config: each test sets what it means.
    savedRedisUrl = process.env.REDIS_URL;
    delete process.env.REDIS_URL;
  });
  afterEach(() => {
    if (savedRedisUrl === undefined) delete process.env.REDIS_URL;
    else process.env.REDIS_URL = savedRedisUrl;
  });
  afterAll(() => raw.quit());

  const on = (): string[] => ['--redis', testRedisUrl(), '--prefix', prefix];

  it('without any Redis uses an in-memory store for this command and says so', async () => {
    const set = await run('stopouts', 'set', '--scope', 'fleet', '--close-positions', '--by', 'ops');
    expect(set.code).toBe(0);
    expect(set.err).toEqual([IN_MEMORY_NOTICE]);
    expect(set.out).toEqual([
      expect.stringMatching(new RegExp(`^set: fleet \\* manual \\(closePositions true, sequence 1, since ${ISO}\\)$`)),
    ]);
    const list = await run('stopouts', 'list');
    expect(list).toEqual({ code: 0, out: [], err: [IN_MEMORY_NOTICE, 'no stopouts'] });
  });

  // Issue 12, failure 6: `stopouts set` exited 1 with `ERR value is not an integer`, the kill switch disabled.
  it('sets the kill switch even when the sequence counter is corrupt: the counter is re-seeded and the set goes through', async () => {
    expect((await run('stopouts', 'set', ...on(), '--scope', 'account', '--id', 'a1')).code).toBe(0);
    await raw.set(`${prefix}:seq:stopout`, 'not-a-number');
    const set = await run('stopouts', 'set', ...on(), '--scope', 'fleet', '--close-positions', '--by', 'ops');
    expect(set.code).toBe(0);
    // Re-seeded at the highest known sequence (1): the kill switch takes 2.
    expect(set.out).toEqual([expect.stringMatching(/^set: fleet \* manual \(closePositions true, sequence 2, since /)]);
    expect(await raw.get(`${prefix}:seq:stopout`)).toBe('2');
  });

  it('sets, lists (text and JSON Lines) and resets stopouts in Redis', async () => {
    expect((await run('stopouts', 'set', ...on(), '--scope', 'portfolio', '--id', 'core', '--by', 'ops')).code).toBe(0);
    const member = await run(
      'stopouts',
      'set',
      ...on(),
      '--scope',
      'member',
      '--id',
      'core/alpha',
      '--reason',
      'session-loss-limit',
      '--till',
      '2099-01-01T00:00:00Z',
      '--close-positions',
      '--by',
      'risk',
    );
    expect(member.err).toEqual([]);
    expect(member.out).toEqual([
      expect.stringMatching(/^set: member core\/alpha session-loss-limit \(closePositions true, sequence 2, since /),
    ]);

    const list = await run('stopouts', 'list', ...on());
    expect(list.code).toBe(0);
    expect(list.out).toEqual([
      expect.stringMatching(new RegExp(`^portfolio core manual false ${ISO} - 1 by ops$`)),
      expect.stringMatching(new RegExp(`^member core/alpha session-loss-limit true ${ISO} 2099-01-01T00:00:00.000Z 2 by risk$`)),
    ]);
    const json = await run('stopouts', 'list', ...on(), '--json');
    expect(json.out.map((l) => JSON.parse(l))).toEqual([
      {
        scope: 'portfolio',
        id: 'core',
        reason: 'manual',
        closePositions: false,
        stoppedAt: expect.stringMatching(ISO),
        by: 'ops',
        sequence: 1,
      },
      {
        scope: 'member',
        id: 'core/alpha',
        reason: 'session-loss-limit',
        closePositions: true,
        stoppedAt: expect.stringMatching(ISO),
        stoppedTill: '2099-01-01T00:00:00.000Z',
        by: 'risk',
        sequence: 2,
      },
    ]);

    // What the CLI wrote is the documented layout (docs/contracts.md#redis).
    expect(JSON.parse((await raw.hget(`${prefix}:stopout:portfolio:core`, 'manual')) as string)).toMatchObject({
      closePositions: false,
      by: 'ops',
      sequence: 1,
    });

    expect(await run('stopouts', 'reset', ...on(), '--scope', 'portfolio', '--id', 'core', '--reason', 'manual')).toEqual({
      code: 0,
      out: ['reset: portfolio core manual'],
      err: [],
    });
    expect(await run('stopouts', 'reset', ...on(), '--scope', 'portfolio', '--id', 'core', '--reason', 'manual')).toEqual({
      code: 0,
      out: ['nothing to reset: no stopout manual on portfolio core'],
      err: [],
    });
    expect((await run('stopouts', 'list', ...on())).out).toHaveLength(1);
  });

  it('says when a set keeps the existing stopout, and when it upgrades it to closePositions', async () => {
    await run('stopouts', 'set', ...on(), '--scope', 'account', '--id', 'alpha', '--by', 'ops');
    expect((await run('stopouts', 'set', ...on(), '--scope', 'account', '--id', 'alpha', '--by', 'ops')).out).toEqual([
      expect.stringMatching(/^already set, kept as it is: account alpha manual \(closePositions false, sequence 1, /),
    ]);
    expect((await run('stopouts', 'set', ...on(), '--scope', 'account', '--id', 'alpha', '--close-positions', '--by', 'ops')).out).toEqual([
      expect.stringMatching(/^upgraded to closePositions: account alpha manual \(closePositions true, sequence 2, /),
    ]);
  });

  it('lists malformed values, which still count', async () => {
    await raw.hset(`${prefix}:stopout:portfolio:core`, 'manual', 'not json');
    expect((await run('stopouts', 'list', ...on())).out).toEqual([
      'portfolio core manual false - - 0 malformed: not valid JSON: "not json"',
    ]);
  });

  it('refuses a reset while a supervisor still records the breach, and says to move startTime first', async () => {
    const supervisor = await createRedisStopoutStore({ url: testRedisUrl(), prefix });
    try {
      await supervisor.set({ scope: 'portfolio', id: 'core', reason: 'day-balance-difference', closePositions: true });
      await supervisor.recordBreach(
        { scope: 'portfolio', id: 'core', reason: 'day-balance-difference', message: 'drawdown 120 >= maxAbsoluteRisk 100' },
        10_000,
      );

      const refused = await run('stopouts', 'reset', ...on(), '--scope', 'portfolio', '--id', 'core', '--reason', 'day-balance-difference');
      expect(refused).toEqual({
        code: 1,
        out: [],
        err: [
          'riskwarden stopouts: day-balance-difference is still breached on portfolio core: drawdown 120 >= maxAbsoluteRisk 100; ' +
            'move startTime first: riskwarden stopouts move-start-time --scope portfolio --id core',
        ],
      });

      const moved = await run(
        'stopouts',
        'move-start-time',
        ...on(),
        '--scope',
        'portfolio',
        '--id',
        'core',
        '--at',
        '2026-01-05T14:00:00+01:00',
      );
      expect(moved).toEqual({
        code: 0,
        out: ['startTime of portfolio core moved to 2026-01-05T13:00:00.000Z'],
        err: ['then reset: riskwarden stopouts reset --scope portfolio --id core --reason day-balance-difference'],
      });
      expect(await supervisor.startTimes()).toEqual([{ scope: 'portfolio', id: 'core', startTime: '2026-01-05T13:00:00.000Z' }]);

      // The supervisor re-measures from the new startTime and clears its breach record; then the reset goes through.
      await supervisor.clearBreach('portfolio', 'core', 'day-balance-difference');
      expect(
        (await run('stopouts', 'reset', ...on(), '--scope', 'portfolio', '--id', 'core', '--reason', 'day-balance-difference')).code,
      ).toBe(0);
      expect(await supervisor.list()).toEqual([]);
    } finally {
      await supervisor.close();
    }
  });

  it('moves startTime to now by default and quotes "*" in its hint', async () => {
    await run('stopouts', 'set', ...on(), '--scope', 'fleet');
    const before = Date.now();
    const moved = await run('stopouts', 'move-start-time', ...on(), '--scope', 'fleet');
    expect(moved.code).toBe(0);
    const at = Date.parse(/moved to (\S+)$/.exec(moved.out[0] as string)?.[1] as string);
    expect(at).toBeGreaterThanOrEqual(before - 1);
    expect(moved.err).toEqual(["then reset: riskwarden stopouts reset --scope fleet --id '*' --reason manual"]);
  });

  it('exits 2 listing every invalid argument by its name', async () => {
    const set = await run(
      'stopouts',
      'set',
      '--scope',
      'galaxy',
      '--id',
      'a b',
      '--till',
      'tomorrow',
      '--prefix',
      'a:b',
      '--redis',
      'http://x',
    );
    expect(set.code).toBe(2);
    expect(set.out).toEqual([]);
    expect(set.err).toEqual([
      '--redis: expected a redis:// or rediss:// URL, got "http://x"',
      '--prefix: expected letters, digits, "_", "." and "-" (no ":"), got "a:b"',
      '--scope: unknown scope "galaxy"; expected one of fleet, portfolio, member, strategy, account, subscription, subscriber',
      '--id: expected "*", an id, or "<id>/<id>" (letters, digits, "_", "." and "-"), got "a b"',
      '--till: expected an ISO 8601 time like "2026-01-05T13:00:00Z", got "tomorrow"',
    ]);

    const reset = await run('stopouts', 'reset', '--scope', 'member', '--id', 'alpha');
    expect(reset).toEqual({
      code: 2,
      out: [],
      err: [
        '--id: expected "<portfolio>/<account>" (each part letters, digits, "_", "." and "-", starting with a letter or digit), got "alpha"',
        '--reason: required: the reason of the stopout to reset (see riskwarden stopouts list)',
      ],
    });

    expect((await run('stopouts', 'set', '--id', 'core')).err).toEqual([
      '--scope: required: one of fleet, portfolio, member, strategy, account, subscription, subscriber',
    ]);
    expect((await run('stopouts', 'set', '--scope', 'portfolio')).err).toEqual([
      '--id: required (except for --scope fleet, whose id is "*")',
    ]);
    expect((await run('stopouts', 'set', '--scope', 'fleet', '--id', 'all')).err).toEqual(['--id: the fleet scope has id "*", got "all"']);
    expect((await run('stopouts', 'set', '--scope', 'fleet', '--till', '2020-01-01T00:00:00Z')).err).toEqual([
      '--till: 2020-01-01T00:00:00Z is not in the future',
    ]);
    expect((await run('stopouts', 'move-start-time', '--scope', 'fleet', '--at', '2026-13-01')).code).toBe(2);
    expect((await run('stopouts', 'frobnicate')).code).toBe(2);
    expect((await run('stopouts', 'list', '--bogus')).code).toBe(2);
  });

  it('takes the store from --redis, then REDIS_URL, then the config file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'riskwarden-stopouts-'));
    const configPrefix = uniquePrefix('cfg');
    const config = join(dir, 'fleet.yaml');
    writeFileSync(config, `accounts:\n  - id: alpha\nredis:\n  url: ${testRedisUrl()}\n  prefix: ${configPrefix}\n`);

    expect((await run('stopouts', 'set', '--config', config, '--scope', 'account', '--id', 'alpha')).err).toEqual([]);
    expect(await raw.hexists(`${configPrefix}:stopout:account:alpha`, 'manual')).toBe(1);

    const deadPort = await freeLoopbackPort();
    process.env.REDIS_URL = `redis://127.0.0.1:${deadPort}`;
    // REDIS_URL wins over the config: nobody listens there.
    const viaEnv = await run('stopouts', 'list', '--config', config);
    expect(viaEnv.code).toBe(1);
    expect(viaEnv.err).toEqual([
      expect.stringMatching(
        new RegExp(
          `^riskwarden stopouts: stopout store unavailable: cannot connect: Redis redis://127\\.0\\.0\\.1:${deadPort}, prefix ${configPrefix} not ready`,
        ),
      ),
    ]);
    // --redis wins over REDIS_URL; --prefix over the config's prefix.
    const viaOption = await run('stopouts', 'list', '--config', config, '--redis', testRedisUrl(), '--prefix', configPrefix);
    expect(viaOption.code).toBe(0);
    expect(viaOption.out).toEqual([expect.stringMatching(/^account alpha manual false /)]);
  }, 10_000);

  it('exits 2 when --config is not a valid fleet', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'riskwarden-stopouts-'));
    const config = join(dir, 'fleet.yaml');
    writeFileSync(config, 'accounts: []\nredis:\n  url: http://nope\n');
    const result = await run('stopouts', 'list', '--config', config);
    expect(result.code).toBe(2);
    expect(result.err[0]).toBe(`--config ${config} is not valid:`);
    expect(result.err.join('\n')).toContain('redis.url');
  });
});
