import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLiveFleet, type LiveFleet } from '../../src/app/live-fleet.ts';
import type { FleetConfig } from '../../src/config/fleet-schema.ts';
import { parseConfigDocument } from '../../src/config/load.ts';
import { SNAPSHOT_SCHEMA } from '../../src/persistence/stored-snapshot.ts';
import { testRedis, testRedisUrl, uniquePrefix } from '../harness/redis.ts';
import { eventually } from '../supervisor/eventually.ts';
import { LiveVenue } from '../supervisor/live-venue.ts';
import { SupervisorFleet } from '../supervisor/supervisor-fleet.ts';

/*
 * Issue 12, failures 4 and 5, end to end: a live fleet (embedded simulator, real Redis) takes over an
 * account whose stored snapshot must not be resumed from. On the code before the fix, an unknown state
 * threw `State 'no-such-state' does not exist` out of the supervisor; a malformed value made every takeover
 * fail ("taking over … failed; releasing it" each second, the account never supervised); a future schema
 * and a wrong type inside were resumed as if nothing were wrong, unreported. Now each is refused with its
 * path, reported, and the account is rebuilt from the venue: supervised, in the fleet view and the gauge.
 */

const ACCOUNTS = ['alpha', 'beta'];

function fleet(prefix: string): FleetConfig {
  const loaded = parseConfigDocument(
    {
      venue: { kind: 'simulator' },
      redis: { prefix },
      accounts: ACCOUNTS.map((id) => ({
        id,
        collateral: '5000',
        budget: { maxPositionSize: { ETHP: '2' }, minMarginBuffer: '0.1', panicMarginBuffer: '0.03' },
      })),
    },
    { expect: 'fleet' },
  );
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  return loaded.value as FleetConfig;
}

const snapshotKey = (prefix: string, accountId: string): string => `${prefix}:snapshot:{${accountId}}:${accountId}`;

async function start(prefix: string, notes: string[]): Promise<LiveFleet> {
  return startLiveFleet({
    config: fleet(prefix),
    redis: testRedisUrl(),
    env: {},
    onRecord: () => {},
    onNote: (note) => notes.push(note),
  });
}

/** Accounts the `riskwarden_accounts` gauge counts, over all states. */
async function gaugeTotal(live: LiveFleet): Promise<number> {
  const text = await live.observability.metrics.text();
  return [...text.matchAll(/^riskwarden_accounts\{state="[^"]+"\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

describe('taking over an account whose stored snapshot must be refused', () => {
  const redis = testRedis();
  /** A genuine stored snapshot of alpha, written by a live fleet. */
  let genuine = '';

  beforeAll(async () => {
    const prefix = uniquePrefix('takeover-genuine');
    const live = await start(prefix, []);
    try {
      genuine = await eventually(
        'alpha’s snapshot to be saved',
        10_000,
        async () => (await redis.get(snapshotKey(prefix, 'alpha'))) ?? undefined,
      );
    } finally {
      await live.close();
    }
  }, 20_000);
  afterAll(() => redis.quit());

  /** Starts a fleet on a fresh prefix whose alpha snapshot is `raw`; checks alpha is supervised and the refusal reported. */
  async function takeOver(raw: string, reported: string, setup?: (prefix: string) => Promise<void>) {
    const prefix = uniquePrefix('takeover');
    await redis.set(snapshotKey(prefix, 'alpha'), raw);
    await setup?.(prefix);
    const notes: string[] = [];
    const live = await start(prefix, notes);
    try {
      await eventually('both accounts supervised, in the fleet view and the accounts gauge', 10_000, async () => {
        const running = live.runtime.accountIds().sort().join(',') === 'alpha,beta';
        const inView =
          live.view
            .fleet()
            .accounts.map((a) => a.id)
            .sort()
            .join(',') === 'alpha,beta';
        return running && inView && (await gaugeTotal(live)) === 2 ? true : undefined;
      });
      expect(live.runtime.supervisor.getSnapshot().status).toBe('active');
      const refusal = notes.find((n) => n.startsWith('snapshot of alpha refused: '));
      expect(refusal, notes.join('\n')).toContain(`Redis value at ${snapshotKey(prefix, 'alpha')}: ${reported}`);
      expect(refusal).toContain('rebuilt from the venue');
      expect(notes.filter((n) => n.includes('taking over'))).toEqual([]);
      // The rebuilt account's own snapshot replaces the refused one, under the current schema.
      const saved = await eventually('alpha’s new snapshot', 5_000, async () => {
        const value = await redis.get(snapshotKey(prefix, 'alpha'));
        return value !== null && value !== raw ? (JSON.parse(value) as { meta: { schema: number } }) : undefined;
      });
      expect(saved.meta.schema).toBe(SNAPSHOT_SCHEMA);
      return live;
    } catch (error) {
      await live.close();
      throw error;
    }
  }

  const edited = (edit: (stored: { meta: Record<string, unknown>; snapshot: { snapshot: Record<string, unknown> } }) => void): string => {
    const stored = JSON.parse(genuine) as { meta: Record<string, unknown>; snapshot: { snapshot: Record<string, unknown> } };
    edit(stored);
    return JSON.stringify(stored);
  };

  it('an unknown state: refused by its path, rebuilt, and its stopout kept (it comes from the stopout store)', async () => {
    const raw = edited((s) => (s.snapshot.snapshot.value = 'no-such-state'));
    const live = await takeOver(raw, 'snapshot.snapshot.value: unknown state "no-such-state"', async (prefix) => {
      // Any client may write a stopout (docs/contracts.md#redis): the rebuilt account must start under it.
      await redis.hset(`${prefix}:stopout:account:alpha`, 'manual', '{}');
    });
    try {
      await eventually('alpha stopped out', 5_000, () =>
        live.view.fleet().accounts.find((a) => a.id === 'alpha')?.state === 'stopped-out' ? true : undefined,
      );
      expect(live.runtime.accountContext('alpha')?.stopouts.map((s) => s.reason)).toEqual(['manual']);
    } finally {
      await live.close();
    }
  }, 30_000);

  it('a snapshot from a future version (meta.schema newer than this one reads)', async () => {
    const raw = edited((s) => (s.meta.schema = SNAPSHOT_SCHEMA + 1));
    await (
      await takeOver(raw, `meta.schema: ${SNAPSHOT_SCHEMA + 1} is newer than this riskwarden reads (1 to ${SNAPSHOT_SCHEMA})`)
    ).close();
  }, 30_000);

  it('malformed JSON', async () => {
    await (await takeOver(genuine.slice(0, Math.floor(genuine.length / 2)), 'not valid JSON: ')).close();
  }, 30_000);

  it('a wrong type inside the context', async () => {
    const raw = edited((s) => ((s.snapshot.snapshot.context as { settings: { products: unknown } }).settings.products = null));
    await (await takeOver(raw, 'snapshot.snapshot.context.settings.products: expected an object, got null')).close();
  }, 30_000);

  it('a genuine snapshot is still resumed, not rebuilt', async () => {
    const prefix = uniquePrefix('takeover-resume');
    await redis.set(snapshotKey(prefix, 'alpha'), genuine);
    const notes: string[] = [];
    const live = await start(prefix, notes);
    try {
      await eventually('both accounts supervised', 10_000, () => (live.runtime.accountIds().length === 2 ? true : undefined));
      expect(notes.filter((n) => n.includes('refused'))).toEqual([]);
    } finally {
      await live.close();
    }
  }, 30_000);

  it('a real `riskwarden run` process does not crash on an unknown state: it runs on and publishes the account', async () => {
    const prefix = uniquePrefix('takeover-process');
    await redis.set(
      snapshotKey(prefix, 'alpha'),
      edited((s) => (s.snapshot.snapshot.value = 'no-such-state')),
    );
    const venue = await LiveVenue.start();
    const supervisors = SupervisorFleet.start(
      {
        venue,
        redisUrl: testRedisUrl(),
        prefix,
        processes: 1,
        fleet: { accounts: ACCOUNTS.map((id) => ({ id, collateral: '5000', budget: { maxPositionSize: { ETHP: '2' } } })) },
      },
      redis,
    );
    try {
      const statuses = await supervisors.settled(20_000).catch((error: Error) => {
        throw new Error(`${error.message}\n${supervisors.notes(30)}`);
      });
      expect([...statuses.keys()].sort()).toEqual(ACCOUNTS);
      const process = supervisors.processes[0]!;
      expect(process.running).toBe(true);
      expect(process.notes.join('\n')).toContain('snapshot.snapshot.value: unknown state "no-such-state"');
    } finally {
      await supervisors.kill();
      await venue.close();
    }
  }, 40_000);
});
