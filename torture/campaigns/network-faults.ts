import { dec, str } from '../../src/domain/decimal.ts';
import { createRng, type Rng } from '../../src/sim/rng.ts';
import type { TcpFaultProxy } from '../../test/harness/tcp-fault-proxy.ts';
import type { Campaign, CampaignOptions, CampaignResult } from '../campaign.ts';
import { LiveRig, type Slot } from '../live/live-rig.ts';
import { pause, untilOr } from '../live/waiting.ts';

/*
 * Network faults between live `riskwarden run` processes and what they depend on. Two processes share one
 * simulator and one Redis, each through fault proxies of its own (test/harness/tcp-fault-proxy.ts): one
 * to the venue (REST and WebSocket), one to Redis. Each run picks a fault, a path and a victim process:
 *
 * - latency: 100–500 ms added each way on both of the victim's paths;
 * - stall: nothing forwarded on one path, nothing closed;
 * - reset: every connection of one path reset with RST, again every 300 ms;
 * - half-open: one direction of one path held, the other flowing;
 * - partition: both of the victim's paths refused (reset at once) or blackholed (accepted, nothing moves).
 *
 * While the fault lasts (1–3 s; quick: about 1 s) the strategy of an account the victim runs buys over its
 * cap, and the market takes every resting risk-layer order now and then. After healing, the account must
 * settle (under its cap at the venue, nothing of the risk layer open, published by a live owner within
 * 15 s). Invariant violations of a run, counted from the venue's log and from Redis: a duplicate reduction,
 * a flip, not settling, the held stopout of M missing, a process that exits on its own.
 */

const KINDS = ['latency', 'stall', 'reset', 'half-open', 'partition'] as const;
type FaultKind = (typeof KINDS)[number];

const REDUCERS = ['r1', 'r2', 'r3'];
/** Stopped out by hand for the whole campaign. */
const M = 'm1';
const CAP = '1';

function fleet(): Record<string, unknown> {
  return {
    defaults: {
      budget: { maxPositionSize: { ETHP: CAP }, maxGrossNotional: '100000', minMarginBuffer: '0.05', panicMarginBuffer: '0.02' },
      reductionTimeout: '60s',
    },
  };
}

export const campaign: Campaign = {
  name: 'network-faults',
  share: 0.15,
  run: runNetworkFaults,
};

async function runNetworkFaults(options: CampaignOptions): Promise<CampaignResult> {
  const rng = createRng(options.seed);
  const failures: string[] = [];
  const figures: Record<string, number> = {
    runs: 0,
    'invariant violations': 0,
    'overlapping reductions while ownership was uncertain (allowed, no flip)': 0,
  };
  for (const kind of KINDS) {
    figures[`${kind} runs`] = 0;
    figures[`${kind} violations`] = 0;
  }
  const rig = await LiveRig.start({
    accounts: [...REDUCERS, M].map((id) => ({ id, collateral: '100000' })),
    fleet: fleet(),
    processes: 2,
    proxied: true,
    liquidity: { depth: '50', levels: 0, spreadTicks: 2 },
    redisConfig: { failClosedAfter: '1s' },
    log: options.log,
  });
  try {
    await rig.ready(Math.max(1_000, Math.min(20_000, options.deadline - Date.now() - 1_000)));
    await rig.setStopout('account', M, 'manual', {});
    await untilOr(5_000, async () => (await rig.statuses()).get(M)?.state === 'stopped-out');
    // Every kind once, in a seeded order, then at random. An account that did not settle is left out of
    // later runs (its failure is reported); the campaign goes on with the others.
    const order = shuffle(rng, [...KINDS]);
    const retired = new Set<string>();
    for (let i = 0; ; i += 1) {
      if (Date.now() > options.deadline - (options.quick ? 3_500 : 20_000)) break;
      const usable = REDUCERS.filter((a) => !retired.has(a));
      if (usable.length === 0) {
        failures.push(`seed ${options.seed}: every account stuck; the campaign stopped after ${i} runs`);
        break;
      }
      const kind = i < order.length ? order[i]! : KINDS[rng.int(KINDS.length)]!;
      const run = await faultRun(rig, rng, {
        run: i + 1,
        kind,
        usable,
        quick: options.quick,
        seed: options.seed,
        log: options.log,
        overlapsInDoubt: (count) => bump(figures, 'overlapping reductions while ownership was uncertain (allowed, no flip)', count),
      });
      bump(figures, 'runs', 1);
      bump(figures, `${kind} runs`, 1);
      bump(figures, `${kind} violations`, run.violations.length);
      bump(figures, 'invariant violations', run.violations.length);
      failures.push(...run.violations);
      if (!run.settled) retired.add(run.account);
      const live = [M, ...REDUCERS.filter((a) => !retired.has(a))];
      const ok = await rig.ready(20_000, rig.slots.length, live).then(
        () => true,
        (error: Error) => void failures.push(`seed ${options.seed}, after run ${i + 1}: ${error.message}`),
      );
      if (!ok) break;
    }
  } catch (error) {
    failures.push(`seed ${options.seed}: ${(error as Error).message}`);
  } finally {
    figures['unexpected exits'] = rig.unexpectedExits.length;
    for (const exit of rig.unexpectedExits) failures.push(`seed ${options.seed}: ${exit}`);
    await rig.close();
  }
  return { name: 'network-faults', figures, failures };
}

function bump(figures: Record<string, number>, key: string, by: number): void {
  figures[key] = (figures[key] ?? 0) + by;
}

function shuffle<T>(rng: Rng, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = rng.int(i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Applies the fault to the victim's proxies; returns what it did, for the log and the failure messages. */
function applyFault(rng: Rng, kind: FaultKind, victim: Slot): { what: string; during?: () => void } {
  const venue = victim.venueProxy!;
  const redis = victim.redisProxy!;
  const path = (): [string, TcpFaultProxy] => (rng.int(2) === 0 ? ['venue', venue] : ['redis', redis]);
  switch (kind) {
    case 'latency': {
      const ms = rng.between(100, 500);
      venue.setLatency(ms);
      redis.setLatency(ms);
      return { what: `${ms} ms latency on both paths` };
    }
    case 'stall': {
      const [name, proxy] = path();
      proxy.stall();
      return { what: `${name} path stalled` };
    }
    case 'reset': {
      const [name, proxy] = path();
      proxy.reset();
      return { what: `${name} path reset every 300 ms`, during: () => void proxy.reset() };
    }
    case 'half-open': {
      const [name, proxy] = path();
      const direction = rng.int(2) === 0 ? 'to-target' : 'to-client';
      proxy.hold(direction);
      return { what: `${name} path half-open (${direction} held)` };
    }
    case 'partition': {
      const mode = rng.int(2) === 0 ? 'refuse' : 'blackhole';
      venue.partition(mode);
      redis.partition(mode);
      return { what: `partitioned (${mode}) from venue and Redis` };
    }
  }
}

async function faultRun(
  rig: LiveRig,
  rng: Rng,
  c: {
    run: number;
    kind: FaultKind;
    usable: string[];
    quick: boolean;
    seed: number;
    log: (line: string) => void;
    overlapsInDoubt: (count: number) => void;
  },
): Promise<{ account: string; settled: boolean; violations: string[] }> {
  const violations: string[] = [];
  const statuses = await rig.statuses();
  const victim = rig.slots[rng.int(rig.slots.length)]!;
  const theirs = c.usable.filter((a) => statuses.get(a)?.owner === victim.process?.owner);
  const account = theirs.length > 0 ? theirs[rng.int(theirs.length)]! : c.usable[rng.int(c.usable.length)]!;
  const where = `seed ${c.seed}, run ${c.run} (${c.kind})`;
  const before = rig.judge(account);
  const position = dec(rig.venue.position(account, 'ETHP'));

  const fault = applyFault(rng, c.kind, victim);
  const duration = c.quick ? rng.between(800, 1_200) : rng.between(1_000, 3_000);
  const healAt = Date.now() + duration;
  c.log(`run ${c.run}: ${victim.process?.name} ${fault.what} for ${duration} ms; ${account} (${str(position)} ETHP) over its cap`);
  const size = str(
    dec(CAP)
      .minus(position)
      .plus(dec(rng.between(2, 12)).div(10)),
  );
  const bought = await rig.buyPastRiskLayer(account, size);
  if (!bought) violations.push(`${where}: the strategy's buy of ${size} ${account} did not fill (the campaign's own path, not the fault)`);
  while (Date.now() < healAt) {
    fault.during?.();
    if (rng.int(2) === 0) await rig.takeRiskOrders(account);
    await pause(300);
  }
  victim.venueProxy!.heal();
  victim.redisProxy!.heal();

  // Settle: under the cap at the venue, nothing of the risk layer open, published by a live owner.
  let last = '';
  const settled = await untilOr(
    15_000,
    async () => {
      if (rng.int(2) === 0) await rig.takeRiskOrders(account);
      const p = dec(rig.venue.position(account, 'ETHP'));
      const open = rig.openRiskOrders(account).length;
      const s = (await rig.statuses()).get(account);
      last = `venue ${str(p)} ETHP, ${open} open risk order(s), status ${s ? `${s.state} by ${s.owner} at ${s.position.ETHP ?? '0'}` : 'none'}`;
      return (
        p.lte(CAP) &&
        open === 0 &&
        s !== undefined &&
        rig.slotOf(s.owner) !== undefined &&
        dec(s.position.ETHP ?? '0').eq(p) &&
        s.state !== 'de-risking' &&
        s.state !== 'panic-exit'
      );
    },
    200,
  );
  if (!settled) violations.push(`${where}: ${account} did not settle within 15 s of healing (${fault.what}): ${last}\n${rig.notes(6)}`);

  const after = rig.judge(account);
  // Cut off from Redis, the victim keeps de-risking with ownership uncertain while another process may take
  // the account over: two owners' reductions may overlap by design (each at most half the position, so
  // together they cannot flip it — issue 12, "supervision through a store outage"). Counted, not a violation;
  // a flip stays one. Anywhere else an overlap is a duplicate reduction.
  const ownershipInDoubt = /redis|partitioned/i.test(fault.what);
  const overlaps = after.overlaps.slice(before.overlaps.length);
  if (ownershipInDoubt) c.overlapsInDoubt(overlaps.length);
  else
    for (const o of overlaps)
      violations.push(
        `${where}: ${account}: duplicate reduction (${fault.what}): ${o.second} reached the venue while ${o.first} was in flight`,
      );
  for (const f of after.flips.slice(before.flips.length))
    violations.push(`${where}: ${account}: flip (${fault.what}) by ${f.orderHash}: ${f.before} → ${f.after}`);

  const held = await rig.stopouts('account', M).catch(() => ({}) as Record<string, string>);
  const shown = await untilOr(5_000, async () => {
    const s = (await rig.statuses()).get(M);
    return s !== undefined && s.state === 'stopped-out' && s.stopouts.includes(`account:${M}:manual`);
  });
  if (!('manual' in held) || !shown)
    violations.push(
      `${where}: the stopout account:${M}:manual was lost (${'manual' in held ? 'not shown in its status' : 'not in Redis'})`,
    );
  if (settled) c.log(`run ${c.run}: settled at ${rig.venue.position(account, 'ETHP')} ETHP`);
  return { account, settled, violations };
}
