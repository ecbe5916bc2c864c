import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { statusCommand } from '../../src/cli/status-command.ts';
import { StatusBoard, type AccountStatus } from '../../src/store/status-board.ts';
import { testRedis, testRedisUrl, uniquePrefix } from '../harness/redis.ts';

/*
 * Issue 12, failure 5: an account left unsupervised (its takeover failing every second) while
 * `riskwarden status` exited 0. With the fleet given (`--config`), an account no process publishes now
 * makes it exit 1, naming the account.
 */

function status(account: string): AccountStatus {
  return {
    account,
    state: 'trading',
    detail: '"trading"',
    position: {},
    grossNotional: '0',
    marginBuffer: null,
    stopouts: [],
    owner: 'host:1:aa',
    at: '2026-01-05T13:00:00.000Z',
  };
}

describe('riskwarden status --config', () => {
  const redis = testRedis();
  const dir = mkdtempSync(join(tmpdir(), 'riskwarden-status-'));
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await redis.quit();
  });

  it('exits 1 naming the accounts of the fleet that no process publishes, 0 once every one is', async () => {
    const prefix = uniquePrefix('status');
    const config = join(dir, 'fleet.yaml');
    const fleet = {
      venue: { kind: 'simulator' },
      redis: { prefix },
      accounts: ['alpha', 'beta'].map((id) => ({ id, budget: { maxPositionSize: { ETHP: '2' } } })),
    };
    writeFileSync(config, JSON.stringify(fleet));
    const board = new StatusBoard(redis, prefix);
    const run = async () => {
      const io = { out: [] as string[], err: [] as string[] };
      const code = await statusCommand(
        { config, redis: testRedisUrl(), env: {} },
        { out: (line) => void io.out.push(line), err: (line) => void io.err.push(line) },
      );
      return { code, ...io };
    };

    await board.publish([status('alpha')], 10_000);
    const one = await run();
    expect(one.code).toBe(1);
    expect(one.out).toHaveLength(1);
    expect(one.err).toEqual(['riskwarden status: not supervised by any process: beta']);

    await board.publish([status('beta')], 10_000);
    const both = await run();
    expect(both).toMatchObject({ code: 0, err: [] });
    expect(both.out).toHaveLength(2);
  });
});
