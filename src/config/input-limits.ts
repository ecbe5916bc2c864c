/**
 * The largest config and scenario a check accepts (docs/contracts.md#scenario-limits). Everything a run
 * allocates grows with these — the mark schedule one entry per second up to `until`, the timeline with
 * accounts × seconds, the synthetic book with its levels — so a document inside them cannot exhaust
 * memory, and `check` refuses (exit 2, by path) what `simulate` or `run` could not carry out. Each is far
 * above any real use. The joint budget of (accounts + mark paths) × simulated seconds bounds a run:
 * measured with a mark moving every second, 10 accounts × 24 000 s took 330 MB and 5 minutes, so the
 * budget of two million stays near 1 GB (and takes about 40 minutes at full speed).
 */
export const INPUT_LIMITS = {
  /** Any duration (`until`, every `at`, timeouts, fault durations): 7 days. */
  durationMs: 7 * 86_400_000,
  /** Accounts of a scenario (each one simulated second by second, see seriesSeconds). */
  accounts: 1_000,
  /** Accounts of a fleet: one process is built and measured for 10,000 (npm run bench), several share more. */
  fleetAccounts: 100_000,
  /** Portfolios, subscribers; members of one portfolio, subscriptions of one subscriber. */
  groups: 1_000,
  /** Risk limits on one level. */
  riskLimits: 100,
  /** Products, and symbols with marks. */
  symbols: 100,
  /** Points of one symbol's mark path. */
  markPoints: 100_000,
  /** Faults, operator actions of a scenario; scripted orders of one account. */
  events: 10_000,
  /** Scripted orders of all accounts together. */
  scriptedOrders: 100_000,
  /**
   * (Accounts + symbols with marks) × simulated seconds of a scenario: each account and each mark path holds
   * something per second (e.g. 10 accounts and 1 symbol for 50 h, 1 and 1 for the full 7 d).
   */
  seriesSeconds: 2_000_000,
  /** Moving-average windows, in marks. */
  window: 100_000,
  /** Book levels on each side of the simulator's synthetic book; distance of the best price, in ticks. */
  bookLevels: 1_000,
  spreadTicks: 100_000,
  /** Fault `count`, and other counts of events. */
  count: 1_000_000,
  /** Ids (they go into Redis keys) and symbols. */
  idLength: 64,
  /** Free text (names, reasons, paths). */
  textLength: 1_024,
  /** Characters of a decimal string (a price with thousands of digits is no price). */
  decimalLength: 64,
  /** Bytes of a config or scenario file. */
  fileBytes: 8 * 1024 * 1024,
} as const;

/** "at most 1000 accounts" style message of an array limit. */
export function atMost(limit: number, what: string): string {
  return `expected at most ${limit} ${what}`;
}
