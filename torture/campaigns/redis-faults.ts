import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { dec, str } from '../../src/domain/decimal.ts';
import { createRng, type Rng } from '../../src/sim/rng.ts';
import type { SupervisorProcess } from '../../test/supervisor/supervisor-process.ts';
import type { Campaign, CampaignOptions, CampaignResult } from '../campaign.ts';
import { LiveRig } from '../live/live-rig.ts';
import { SentinelGroup } from '../live/sentinel-group.ts';
import { pause, untilOr } from '../live/waiting.ts';

/*
 * Redis dies under two live `riskwarden run` processes (one simulator, real sockets) and comes back: with
 * its data (saved just before the SIGKILL), without it (the dump removed: the store returns empty), or —
 * in a second phase on a Sentinel group — by a failover to the replica (the checks below then run once
 * the replica is promoted; refusal within the grace period is required when the promotion took 0.5 s
 * longer than the grace period). During each outage:
 *
 * - entries refused within the grace period: every account that was trading must be stopped out by its
 *   owner (the fail-closed `store-unreachable` stopout) within failClosedAfter (1 s) + 1.5 s of slack;
 * - reductions continue: 2.5 lease TTLs into the outage (past the grace period too) the strategy of R buys over its cap;
 *   the venue must show the risk layer's reductions bring it back under the cap before Redis returns;
 * - an operator's kill switch through the API of E3's owner must be accepted (and applied there at once);
 * - 0 stopouts lost: M's manual stopout (written before the campaign) and each accepted kill switch must
 *   be in Redis within 8 s of its return — a store that came back empty included;
 * - recovery: within 10 s of the return every account is published again and the entry accounts trade.
 *
 * Counted from the venue's log and the store; the `state` and `stopout` records the processes print are
 * used only for "refused within the grace period" and "applied at once", which nothing outside shows.
 */

const ENTRY_ACCOUNTS = ['e1', 'e2', 'e3'];
/** Its strategy buys over the cap during each outage. */
const R = 'r1';
/** Stopped out by hand before the first outage. */
const M = 'm1';
/** The kill switch of each outage is set on it through the API. */
const KILL_SWITCH = 'e3';
const CAP = '1';
const FAIL_CLOSED_MS = 1_000;
const GRACE_SLACK_MS = 1_500;
const LEASE_TTL_MS = 1_000;
/** A promotion this much longer than the grace period certainly kept the store away past it. */
const PROMOTION_MARGIN_MS = 500;
const RECOVERY_MS = 10_000;

type OutageKind = 'with-data' | 'without-data' | 'failover';

function fleet(): Record<string, unknown> {
  return {
    defaults: {
      budget: { maxPositionSize: { ETHP: CAP }, maxGrossNotional: '100000', minMarginBuffer: '0.05', panicMarginBuffer: '0.02' },
    },
  };
}

const accounts = [...ENTRY_ACCOUNTS, R, M].map((id) => ({ id, collateral: '100000' }));

export const campaign: Campaign = {
  name: 'redis-faults',
  share: 0.2,
  run: runRedisFaults,
};

interface Figures {
  'redis restarts with data': number;
  'redis restarts without data': number;
  failovers: number;
  'entries refused within grace': number;
  'entries not refused within grace': number;
  'reductions continued': number;
  'reductions stalled': number;
  'kill switches accepted': number;
  'kill switches refused': number;
  'stopouts lost': number;
  'duplicate reductions': number;
  flips: number;
  'unexpected exits': number;
  recoveries: number;
  'failovers longer than the grace period': number;
  'failovers within the grace period': number;
  [key: string]: number;
}

async function runRedisFaults(options: CampaignOptions): Promise<CampaignResult> {
  const rng = createRng(options.seed);
  const failures: string[] = [];
  const figures: Figures = {
    'redis restarts with data': 0,
    'redis restarts without data': 0,
    failovers: 0,
    'entries refused within grace': 0,
    'entries not refused within grace': 0,
    'reductions continued': 0,
    'reductions stalled': 0,
    'kill switches accepted': 0,
    'kill switches refused': 0,
    'stopouts lost': 0,
    'duplicate reductions': 0,
    flips: 0,
    'unexpected exits': 0,
    recoveries: 0,
    'failovers longer than the grace period': 0,
    'failovers within the grace period': 0,
  };
  const ctx: Ctx = { options, rng, failures, figures, outage: 0, promotedAfterMs: undefined };

  // Phase 1: a plain redis-server, killed and restarted with and without its data. Quick: one restart
  // without data (the harder case: the store returns empty).
  const phase1End = options.quick ? options.deadline : options.deadline - (options.deadline - Date.now()) * 0.45;
  const plain = await LiveRig.start({
    accounts,
    fleet: fleet(),
    processes: 2,
    redisConfig: { failClosedAfter: `${FAIL_CLOSED_MS}ms` },
    log: options.log,
  });
  await phase(ctx, plain, phase1End, options.quick ? ['without-data'] : ['with-data', 'without-data'], async (kind) => {
    if (kind === 'with-data') await plain.store.save();
    await plain.redis.kill();
    return async () => {
      if (kind === 'without-data') rmSync(join(plain.redis.dir, 'dump.rdb'), { force: true });
      await plain.redis.restart();
      plain.reconnectStore();
      figures[kind === 'with-data' ? 'redis restarts with data' : 'redis restarts without data'] += 1;
    };
  });

  // Phase 2 (full runs): a Sentinel group; the master is SIGKILLed and the sentinel promotes the replica.
  if (!options.quick && Date.now() < options.deadline - 20_000) {
    const group = await SentinelGroup.start();
    const rig = await LiveRig.start({
      accounts,
      fleet: fleet(),
      processes: 2,
      redis: group.nodes[0]!,
      connectStore: () => group.client(),
      redisConfig: { sentinels: group.sentinels, sentinelName: 'torture', failClosedAfter: `${FAIL_CLOSED_MS}ms` },
      log: options.log,
    }).catch(async (error: Error) => {
      await group.close();
      throw error;
    });
    try {
      // The promotion is awaited before the checks: how long it took says whether the store was away
      // longer than the grace period (then entries must have been refused) or not.
      await phase(ctx, rig, options.deadline, ['failover'], async () => {
        const took = await group.failover(10_000);
        ctx.promotedAfterMs = took;
        if (took === undefined)
          failures.push(`seed ${options.seed}, outage ${ctx.outage}: the sentinel did not promote the replica within 10 s`);
        else figures.failovers += 1;
        return async () => rig.reconnectStore();
      });
    } finally {
      await group.close();
    }
  }
  return { name: 'redis-faults', figures, failures };
}

interface Ctx {
  options: CampaignOptions;
  rng: Rng;
  failures: string[];
  figures: Figures;
  outage: number;
  /** How long the last failover's promotion took (undefined: none, or it did not happen). */
  promotedAfterMs: number | undefined;
}

/**
 * Outages on one rig until `end` (quick: one of each kind given): `cut` takes Redis away and returns how
 * to bring it back. Judges the venue's log and closes the rig at the end, whatever happened.
 */
async function phase(
  ctx: Ctx,
  rig: LiveRig,
  end: number,
  kinds: OutageKind[],
  cut: (kind: OutageKind) => Promise<() => Promise<void>>,
): Promise<void> {
  const { options, failures, figures } = ctx;
  try {
    await rig.ready(Math.max(1_000, Math.min(20_000, end - Date.now() - 1_000)));
    await rig.setStopout('account', M, 'manual', {});
    if (!(await untilOr(5_000, async () => (await rig.statuses()).get(M)?.state === 'stopped-out')))
      failures.push(`seed ${options.seed}: ${M} was not stopped out by the manual stopout within 5 s`);
    for (let i = 0; ; i += 1) {
      if (options.quick && i >= kinds.length) break;
      // An outage takes up to ~15 s when it goes wrong; leave time to judge and close.
      if (Date.now() > end - (options.quick ? 5_000 : 15_000)) break;
      await outage(ctx, rig, kinds[i % kinds.length]!, cut);
    }
  } catch (error) {
    failures.push(`seed ${options.seed}, outage ${ctx.outage}: ${(error as Error).message}`);
  } finally {
    for (const account of [R, ...ENTRY_ACCOUNTS]) {
      const report = rig.judge(account);
      figures['duplicate reductions'] += report.overlaps.length;
      figures.flips += report.flips.length;
      for (const o of report.overlaps)
        failures.push(`seed ${options.seed}: ${account}: duplicate reduction: ${o.second} while ${o.first} was in flight`);
      for (const f of report.flips) failures.push(`seed ${options.seed}: ${account}: flip by ${f.orderHash}: ${f.before} → ${f.after}`);
    }
    figures['unexpected exits'] += rig.unexpectedExits.length;
    for (const exit of rig.unexpectedExits) failures.push(`seed ${options.seed}: ${exit}`);
    await rig.close();
  }
}

async function outage(ctx: Ctx, rig: LiveRig, kind: OutageKind, cut: (kind: OutageKind) => Promise<() => Promise<void>>): Promise<void> {
  const { options, rng, failures, figures } = ctx;
  ctx.outage += 1;
  const n = ctx.outage;
  const where = `seed ${options.seed}, outage ${n} (${kind})`;
  await rig.ready(20_000);
  const before = await rig.statuses();
  const trading = ENTRY_ACCOUNTS.filter((a) => before.get(a)?.state === 'trading' && !before.get(a)!.stopouts.length);
  const processOf = (account: string): SupervisorProcess | undefined => rig.slotOf(before.get(account)?.owner ?? '')?.process;
  const from = new Map(rig.running().map((p) => [p, p.records.length]));
  const position = dec(rig.venue.position(R, 'ETHP'));

  const cutAt = Date.now();
  const restore = await cut(kind);
  // The store was away at least as long as the promotion took (the processes lost the master at the kill and
  // find the new one only once the sentinel names it): past the grace period by a margin, entries must stop.
  const mustRefuse =
    kind !== 'failover' || (ctx.promotedAfterMs !== undefined && ctx.promotedAfterMs >= FAIL_CLOSED_MS + PROMOTION_MARGIN_MS);
  if (kind === 'failover') figures[mustRefuse ? 'failovers longer than the grace period' : 'failovers within the grace period'] += 1;
  options.log(
    `outage ${n}: ${kind}${kind === 'failover' ? ` (promoted after ${ctx.promotedAfterMs ?? '-'} ms)` : ''}; ` +
      `${mustRefuse ? trading.length : 0} trading account(s) must be refused entries`,
  );

  // Entries refused within the grace period: each trading account's owner stops it out (fail closed).
  const refused = await Promise.all(
    (mustRefuse ? trading : []).map(async (account) => {
      const p = processOf(account);
      if (p === undefined) return { account, ok: false, why: 'no running owner before the outage' };
      const start = from.get(p) ?? 0;
      const ok = await untilOr(FAIL_CLOSED_MS + GRACE_SLACK_MS, () =>
        p.records
          .slice(start)
          .some(
            (r) =>
              r.kind === 'state' &&
              r.account === account &&
              r.to === 'stopped-out' &&
              r.receivedAt - cutAt <= FAIL_CLOSED_MS + GRACE_SLACK_MS,
          ),
      );
      const seen = p.records
        .slice(start)
        .filter((r) => r.kind === 'state' && r.account === account)
        .map((r) => `${String(r.from)} → ${String(r.to)} at +${r.receivedAt - cutAt} ms`);
      const why = `${p.name} wrote no state → stopped-out for it within ${FAIL_CLOSED_MS + GRACE_SLACK_MS} ms (its state records since: ${seen.join(', ') || 'none'})`;
      return { account, ok, why: ok ? '' : why };
    }),
  );
  for (const r of refused) {
    if (r.ok) figures['entries refused within grace'] += 1;
    else {
      figures['entries not refused within grace'] += 1;
      failures.push(`${where}: ${r.account}: entries not refused within the grace period: ${r.why}`);
    }
  }

  // The operator's kill switch through the API of E3's owner, while Redis is away.
  const reason = `outage-${n}`;
  const switcher = processOf(KILL_SWITCH) ?? rig.running()[0];
  let accepted = false;
  if (switcher) {
    const switchFrom = switcher.records.length;
    const answer = await rig.api(switcher, '/api/v1/stopouts', { scope: 'account', id: KILL_SWITCH, reason });
    accepted = 'status' in answer && answer.status >= 200 && answer.status < 300;
    if (accepted) {
      figures['kill switches accepted'] += 1;
      // Applied there: its timeline records the stopout, or its own API shows it in force on the account.
      const recorded = (): boolean =>
        switcher.records
          .slice(switchFrom)
          .some((r) => r.kind === 'stopout' && r.id === KILL_SWITCH && r.reason === reason && r.action === 'set');
      const applied = await untilOr(
        1_000,
        async () => recorded() || ((await rig.stopoutsShownBy(switcher, KILL_SWITCH)) ?? []).includes(`account:${KILL_SWITCH}:${reason}`),
      );
      if (!applied)
        failures.push(`${where}: the kill switch on ${KILL_SWITCH} was accepted by ${switcher.name} but not applied there within 1 s`);
    } else {
      figures['kill switches refused'] += 1;
      failures.push(`${where}: the kill switch through ${switcher.name}'s API was not accepted: ${JSON.stringify(answer)}`);
    }
  }

  // Reductions continue: well past the grace period and the lease TTL (1 s), R's strategy buys over the cap.
  await pause(Math.max(0, cutAt + LEASE_TTL_MS * 2.5 - Date.now()));
  const size = str(
    dec(CAP)
      .minus(position)
      .plus(dec(rng.between(3, 12)).div(10)),
  );
  const bought = await rig
    .trade(R, 'buy', size)
    .then(() => untilOr(3_000, () => dec(rig.venue.position(R, 'ETHP')).gt(CAP)))
    .catch(() => false);
  if (!bought) failures.push(`${where}: the strategy's buy of ${size} ${R} did not fill (the venue, not Redis, is at fault)`);
  else {
    const reduced = await untilOr(5_000, () => dec(rig.venue.position(R, 'ETHP')).lte(CAP));
    if (reduced) figures['reductions continued'] += 1;
    else {
      figures['reductions stalled'] += 1;
      failures.push(`${where}: ${R} at ${rig.venue.position(R, 'ETHP')} ETHP (cap ${CAP}) was not reduced within 5 s while Redis was away`);
    }
  }

  // A little longer, by chance (full runs): the return does not always follow the reduction at once.
  if (!options.quick) await pause(rng.int(1_000));
  await restore();
  const returnedAt = Date.now();
  options.log(`outage ${n}: Redis back after ${((returnedAt - cutAt) / 1000).toFixed(1)} s`);

  // 0 stopouts lost: M's, and the kill switch if it was accepted, in Redis within 8 s of the return.
  const expected = [{ account: M, reason: 'manual' }, ...(accepted ? [{ account: KILL_SWITCH, reason }] : [])];
  for (const e of expected) {
    let fields: string[] = [];
    const there = await untilOr(8_000, async () => {
      fields = Object.keys(await rig.stopouts('account', e.account));
      return fields.includes(e.reason);
    });
    if (!there) {
      figures['stopouts lost'] += 1;
      failures.push(
        `${where}: stopout account:${e.account}:${e.reason} not in Redis 8 s after it returned (fields: ${fields.join(', ') || 'none'})`,
      );
    }
  }
  // Back to normal before the next outage: the kill switch reset, and every account published again since
  // the return (statuses saved before the outage come back with the data), the entry accounts trading.
  await rig.resetStopout('account', KILL_SWITCH, reason).catch(() => {});
  let last = '';
  const recovered = await untilOr(RECOVERY_MS, async () => {
    const now = await rig.statuses();
    last = [...now.values()].map((s) => `${s.account}: ${s.state} [${s.stopouts.join(',')}] at ${s.at}`).join('; ');
    return accounts.every(({ id }) => {
      const s = now.get(id);
      if (s === undefined || Date.parse(s.at) < returnedAt || rig.slotOf(s.owner) === undefined) return false;
      return !ENTRY_ACCOUNTS.includes(id) || s.state === 'trading';
    });
  });
  if (recovered) figures.recoveries += 1;
  else {
    failures.push(`${where}: entries did not resume within ${RECOVERY_MS / 1000} s of Redis returning: ${last}`);
    await rig.ready(15_000);
  }
}
