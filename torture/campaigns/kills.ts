import { dec, str } from '../../src/domain/decimal.ts';
import { createRng, type Rng } from '../../src/sim/rng.ts';
import type { Campaign, CampaignOptions, CampaignResult } from '../campaign.ts';
import { LiveRig } from '../live/live-rig.ts';
import { pause, untilOr } from '../live/waiting.ts';

/*
 * SIGKILLs of a live `riskwarden run` at random points mid-de-risk. Two processes share one Redis and one
 * simulator over real sockets; the simulator has no market maker of its own, so every reduction and exit
 * rests at the venue until the campaign's maker takes it, at random moments: a kill can land before an
 * order is sent, while it rests, just after it filled, or in a handover when the replacement comes up.
 *
 * Each cycle, on one account (round robin over ACTIVE):
 * - reduce: the strategy buys past the risk layer to 1.2–2.5 ETHP (cap 1): the owner reduces in steps;
 * - exit: the strategy buys 0.2–0.8 ETHP and a stopout with closePositions is written: the owner exits.
 * At a random delay (0–2 s; quick: 0–0.8 s), or the moment the venue shows the risk layer's next order,
 * the process running the account is SIGKILLed and a new one started in its place. The cycle ends when
 * the venue shows the account back under its cap (or flat and stopped out) with nothing of the risk layer
 * left open.
 *
 * Judged from the venue's order log (test/harness/venue-order-log.ts) and from Redis, never from what a
 * process says: duplicate reductions (two risk-layer orders in flight at once for one account), flips,
 * and stopouts lost (HELD's manual stopout and each exit's stopout must stay in Redis and in the status
 * the account's new owner publishes).
 */

const ACTIVE = ['k1', 'k2', 'k3'];
/** Stopped out by hand for the whole campaign: it must stay so through every kill. */
const HELD = 'k4';
const CAP = '1';
const FULL_KILLS = 50;
const QUICK_KILLS = 3;

function fleet(): Record<string, unknown> {
  return {
    defaults: {
      budget: { maxPositionSize: { ETHP: CAP }, maxGrossNotional: '100000', minMarginBuffer: '0.05', panicMarginBuffer: '0.02' },
      // Longer than any cycle: a resting reduction is never cancelled and replaced while the maker waits.
      reductionTimeout: '60s',
    },
  };
}

interface Expected {
  account: string;
  reason: string;
}

export const campaign: Campaign = {
  name: 'kills',
  share: 0.5,
  run: runKills,
};

async function runKills(options: CampaignOptions): Promise<CampaignResult> {
  const rng = createRng(options.seed);
  const failures: string[] = [];
  const target = options.quick ? QUICK_KILLS : FULL_KILLS;
  // Quick: two processes (each start costs seconds); full: three, so that two supervise while a victim's
  // replacement starts and kills follow one another without waiting for it.
  const slots = options.quick ? 2 : 3;
  const figures = {
    processes: slots,
    kills: 0,
    'kills target': target,
    'reduce cycles': 0,
    'exit cycles': 0,
    'duplicate reductions': 0,
    flips: 0,
    'stopout checks': 0,
    'stopouts lost': 0,
    'cycles not settled': 0,
    'unexpected exits': 0,
  };
  const accounts = [...ACTIVE, HELD].map((id) => ({ id, collateral: '100000' }));
  const rig = await LiveRig.start({
    accounts,
    fleet: fleet(),
    processes: slots,
    liquidity: { depth: '50', levels: 0, spreadTicks: 2 },
    log: options.log,
  });
  // globalOrdinal at the start of each cycle: a finding in the log is traced back to its cycle.
  const cycleStarts: Array<{ ordinal: number; label: string }> = [];
  const retired = new Set<string>();
  try {
    await rig.ready(startupWithin(options));
    options.log(`ready: ${slots} processes supervise ${[...ACTIVE, HELD].join(', ')}`);
    await rig.setStopout('account', HELD, 'manual', {});
    const held: Expected = { account: HELD, reason: 'manual' };
    await untilOr(10_000, async () => (await rig.statuses()).get(HELD)?.state === 'stopped-out');

    for (let cycle = 1; figures.kills < target || !options.quick; cycle += 1) {
      // A cycle takes up to ~20 s when it goes wrong; leave time to judge and close.
      if (Date.now() > options.deadline - (options.quick ? 3_000 : 12_000)) break;
      if (!options.quick && figures.kills >= target && Date.now() > options.deadline - 20_000) break;
      // Two processes supervise before every kill (with three slots, the replacement of the last victim may
      // still be starting).
      if (cycle > 1) {
        const ok = await rig.ready(20_000, 2, [HELD, ...ACTIVE.filter((a) => !retired.has(a))]).then(
          () => true,
          (error: Error) => void failures.push(`seed ${options.seed}, before cycle ${cycle}: ${error.message}`),
        );
        if (!ok) break;
      }
      const usable = ACTIVE.filter((a) => !retired.has(a));
      const account = usable[cycle % Math.max(1, usable.length)];
      if (account === undefined) {
        failures.push(`seed ${options.seed}: every account stuck; the campaign stopped after ${figures.kills} kills`);
        break;
      }
      cycleStarts.push({ ordinal: rig.venue.sim.exchange.lastGlobalOrdinals.orderUpdate, label: `cycle ${cycle} (${account})` });
      const outcome = await killCycle(rig, rng, { cycle, account, quick: options.quick, seed: options.seed, log: options.log });
      if (outcome.killed) figures.kills += 1;
      figures[outcome.kind === 'exit' ? 'exit cycles' : 'reduce cycles'] += 1;
      if (!outcome.settled) {
        figures['cycles not settled'] += 1;
        failures.push(outcome.why);
        retired.add(account);
      }
      // Stopouts survive the kill: HELD's, and this exit's, in Redis and in what the new owner publishes.
      const expected = [held, ...(outcome.kind === 'exit' ? [{ account, reason: `exit-${cycle}` }] : [])];
      for (const e of expected) {
        figures['stopout checks'] += 1;
        const lost = await stopoutLost(rig, e);
        if (lost) {
          figures['stopouts lost'] += 1;
          failures.push(`seed ${options.seed}, cycle ${cycle}: stopout account:${e.account}:${e.reason} lost after the kill: ${lost}`);
        }
      }
      if (outcome.kind === 'exit') {
        const reason = `exit-${cycle}`;
        await rig.resetStopout('account', account, reason);
        let last = '';
        const released = await untilOr(5_000, async () => {
          const s = (await rig.statuses()).get(account);
          last = s ? `${s.state} by ${s.owner} [${s.stopouts.join(',')}]` : 'no status';
          return s !== undefined && rig.slotOf(s.owner) !== undefined && !s.stopouts.includes(`account:${account}:${reason}`);
        });
        if (!released) {
          // Back in Redis after the HDEL means a process wrote it again: a reset undone.
          const again = reason in (await rig.stopouts('account', account).catch(() => ({}) as Record<string, string>));
          failures.push(
            `seed ${options.seed}, cycle ${cycle}: the reset of account:${account}:${reason} was not applied within 5 s ` +
              `(${again ? 'it is back in Redis: written again after the reset' : 'not in Redis'}; status ${last})`,
          );
        }
      }
    }
    if (!options.quick && figures.kills < target)
      failures.push(`seed ${options.seed}: only ${figures.kills} of the ${target} kills fit in the time budget; run with more --minutes`);
  } finally {
    // Judge from the venue's log, whatever happened above.
    for (const account of ACTIVE) {
      const report = rig.judge(account);
      figures['duplicate reductions'] += report.overlaps.length;
      figures.flips += report.flips.length;
      const cycleAt = (ordinal: number): string => cycleStarts.filter((c) => c.ordinal < ordinal).at(-1)?.label ?? 'before the first cycle';
      for (const o of report.overlaps)
        failures.push(
          `seed ${options.seed}, ${cycleAt(o.at)}: duplicate reduction: ${o.second} reached the venue while ${o.first} was in flight`,
        );
      for (const f of report.flips)
        failures.push(`seed ${options.seed}, ${cycleAt(f.at)}: flip by ${f.orderHash}: ${f.symbol} ${f.before} → ${f.after}`);
    }
    figures['unexpected exits'] = rig.unexpectedExits.length;
    for (const exit of rig.unexpectedExits) failures.push(`seed ${options.seed}: ${exit}`);
    await rig.close();
  }
  return { name: 'kills', figures, failures };
}

/** How long the processes may take to start: 20 s, but never past the deadline. */
function startupWithin(options: CampaignOptions): number {
  return Math.max(1_000, Math.min(20_000, options.deadline - Date.now() - 1_000));
}

interface CycleOutcome {
  kind: 'reduce' | 'exit';
  killed: boolean;
  settled: boolean;
  why: string;
}

async function killCycle(
  rig: LiveRig,
  rng: Rng,
  c: { cycle: number; account: string; quick: boolean; seed: number; log: (line: string) => void },
): Promise<CycleOutcome> {
  const { account } = c;
  const kind = rng.int(3) === 0 ? 'exit' : 'reduce';
  const before = dec(rig.venue.position(account, 'ETHP'));
  // reduce: to 1.2–2.5 over a cap of 1; exit: 0.2–0.8 more, under the cap unless a reduce left it at 1.
  const size =
    kind === 'reduce'
      ? str(
          dec(CAP)
            .minus(before)
            .plus(dec(rng.between(2, 15)).div(10)),
        )
      : str(dec(rng.between(2, 8)).div(10));
  const bought = await rig.buyPastRiskLayer(account, size);
  if (!bought)
    return { kind, killed: false, settled: false, why: `seed ${c.seed}, cycle ${c.cycle}: the strategy's buy of ${size} did not fill` };
  if (kind === 'exit') await rig.setStopout('account', account, `exit-${c.cycle}`, { closePositions: true });
  // Half the kills at a random delay, half the moment the venue shows a new risk-layer order (the owner
  // dies just as its order arrives; at most 3 s of waiting for one).
  const onOrder = rng.int(2) === 0;
  const riskOrders = (): number => rig.judge(account).orders.filter((o) => !rig.isExternal(o.orderHash)).length;
  const ordersBefore = riskOrders();
  const killAt = Date.now() + (onOrder ? 3_000 : rng.int(c.quick ? 800 : 2_000));
  const giveUpAt = Date.now() + 20_000;
  let killed = false;
  let victim = '';
  for (;;) {
    if (!killed && (Date.now() >= killAt || (onOrder && riskOrders() > ordersBefore))) {
      const owner = (await rig.statuses()).get(account)?.owner;
      const running = rig.running();
      const target = (owner && rig.slotOf(owner)?.process) || running[rng.int(running.length)];
      if (target) {
        const slot = rig.slots.find((s) => s.process === target)!;
        victim = `${target.name} (${owner === target.owner ? 'the owner' : 'not the owner'})`;
        await target.kill('SIGKILL');
        rig.spawn(slot);
        killed = true;
        c.log(
          `cycle ${c.cycle}: ${kind} of ${account} (${str(before)} + ${size}); SIGKILL ${victim} ${onOrder ? 'as its order arrived' : 'after a delay'}`,
        );
      }
    }
    // The market takes what the risk layer rests, now and then (every open order: a duplicate fills too).
    if (rng.int(3) === 0) await rig.takeRiskOrders(account);
    if (killed && (await settled(rig, account, kind))) {
      c.log(`cycle ${c.cycle}: settled at ${rig.venue.position(account, 'ETHP')} ETHP`);
      return { kind, killed, settled: true, why: '' };
    }
    if (Date.now() > giveUpAt) {
      const s = (await rig.statuses()).get(account);
      return {
        kind,
        killed,
        settled: false,
        why:
          `seed ${c.seed}, cycle ${c.cycle}: ${kind} of ${account} did not settle within 20 s after SIGKILL of ${victim || 'nobody'}: ` +
          `venue position ${rig.venue.position(account, 'ETHP')}, open risk orders ${rig.openRiskOrders(account).length}, ` +
          `status ${s ? `${s.state} by ${s.owner} [${s.stopouts.join(',')}]` : 'none'}\n${rig.notes(8)}`,
      };
    }
    await pause(killed || !onOrder ? rng.between(50, 250) : 5);
  }
}

/** The account is where the risk layer should have brought it, by the venue, and its live owner agrees. */
async function settled(rig: LiveRig, account: string, kind: 'reduce' | 'exit'): Promise<boolean> {
  const position = dec(rig.venue.position(account, 'ETHP'));
  if (rig.openRiskOrders(account).length > 0) return false;
  const s = (await rig.statuses()).get(account);
  if (s === undefined || rig.slotOf(s.owner) === undefined) return false;
  if (!dec(s.position.ETHP ?? '0').eq(position)) return false;
  if (kind === 'exit') return position.isZero() && s.state === 'stopped-out';
  return position.lte(CAP) && s.state !== 'de-risking' && s.state !== 'panic-exit';
}

/** Why a stopout counts as lost (missing from Redis, or from its account's published status), or undefined. */
async function stopoutLost(rig: LiveRig, e: Expected): Promise<string | undefined> {
  const inRedis = await rig.stopouts('account', e.account).catch(() => ({}) as Record<string, string>);
  if (!(e.reason in inRedis)) return `not in Redis (fields: ${Object.keys(inRedis).join(', ') || 'none'})`;
  const key = `account:${e.account}:${e.reason}`;
  let last = '';
  const seen = await untilOr(5_000, async () => {
    const s = (await rig.statuses()).get(e.account);
    last = s ? `${s.state} by ${s.owner} [${s.stopouts.join(',')}]` : 'no status';
    return s !== undefined && rig.slotOf(s.owner) !== undefined && s.state === 'stopped-out' && s.stopouts.includes(key);
  });
  return seen ? undefined : `its account's status does not show it within 5 s (${last})`;
}
