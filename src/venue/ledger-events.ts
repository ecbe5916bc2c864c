import { ORDER_SIDE, ORDER_UPDATE_REASON, STRATEGY_UPDATE_REASON } from '../derivadex/codes.ts';
import type { OrderIntentRow } from '../derivadex/order-intent.ts';
import type { OrderUpdateHistoryRow, OrderUpdateRow } from '../derivadex/order-update.ts';
import type { StrategyUpdateHistoryRow, StrategyUpdateRow } from '../derivadex/strategy-update.ts';
import { dec, str } from '../domain/decimal.ts';
import type { LedgerEvent } from '../domain/ledger.ts';
import type { Side } from '../domain/order.ts';

/*
 * Venue rows → domain ledger events (docs/derivadex-sources.md §5.6, §5.7, §10.2, §10.6, §10.7).
 *
 * Each economic fact enters the ledger exactly once:
 * - ORDER_UPDATE Trade (1) → a `fill` for each of our intents on the row: `amount` / `price` are the
 *   row's (this update's fill), the side is our intent's, the fee is `makerFeeCollateral` or
 *   `takerFeeCollateral` by which intent is ours (§10.7).
 * - ORDER_UPDATE Liquidation (2) → a `liquidation` at the row's price for the strategy named by
 *   `liquidatedTraderAddress` / `liquidatedStrategyIdHash`; if the absorbing order (`makerOrderIntent`)
 *   is ours, a `fill` of it as well. Post / Cancellation / rejections move no money.
 * - STRATEGY_UPDATE Deposit (0) → `deposit`; WithdrawIntent (2) → `withdrawal` (the collateral leaves
 *   `availCollateral`, which is the ledger's collateral, §10.2); FundingPayment (3) → `funding` (signed).
 *   Withdraw (1) moves nothing available (the locked amount is claimed on chain); WithdrawRejection (9)
 *   is reported and moves nothing.
 * - STRATEGY_UPDATE Trade / Fee / PnlSettlement / Liquidation / ADL are NOT ledger events: they are the
 *   collateral side of fills the ORDER_UPDATE feed already reported. Their `newAvailCollateral` and
 *   `positions` are checked against the ledger instead (strategy-sync.ts).
 *
 * Ids are unique per family: `order:<globalOrdinal>` and `strategy:<globalOrdinal>` (globalOrdinal is per
 * family, §10.4, so the prefix keeps the two apart). The events here carry no `seq`: the sync gives
 * each one as it books it (see strategy-sync.ts for why).
 */

/** A realtime or REST row of either family. */
export type AnyOrderUpdate = OrderUpdateRow | OrderUpdateHistoryRow;
export type AnyStrategyUpdate = StrategyUpdateRow | StrategyUpdateHistoryRow;

type WithoutSeq<T> = T extends unknown ? Omit<T, 'seq'> : never;
/** A ledger event before the sync gives it its place (`seq`). */
export type UnsequencedEvent = WithoutSeq<LedgerEvent>;

/** Who "we" are on the wire: the 21-byte lower-case trader and the 4-byte strategy id hash. */
export interface StrategyIdentity {
  traderAddress: string;
  strategyIdHash: string;
}

export type IntentRole = 'maker' | 'taker';

export interface OurIntent {
  role: IntentRole;
  intent: OrderIntentRow;
}

function same(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

export function isOurIntent(intent: OrderIntentRow, us: StrategyIdentity): boolean {
  return intent.traderAddress !== '' && same(intent.traderAddress, us.traderAddress) && same(intent.strategyIdHash, us.strategyIdHash);
}

/** Our intents on a row: the maker (the order the row is about) first, then the taker (§10.7). */
export function ourIntents(row: AnyOrderUpdate, us: StrategyIdentity): OurIntent[] {
  const mine: OurIntent[] = [];
  if (isOurIntent(row.makerOrderIntent, us)) mine.push({ role: 'maker', intent: row.makerOrderIntent });
  if (row.takerOrderIntent !== undefined && isOurIntent(row.takerOrderIntent, us))
    mine.push({ role: 'taker', intent: row.takerOrderIntent });
  return mine;
}

/** True when a Liquidation row liquidates `us` (§10.7: named by the liquidated* fields). */
export function isLiquidated(row: AnyOrderUpdate, us: StrategyIdentity): boolean {
  return (
    row.reason === ORDER_UPDATE_REASON.Liquidation &&
    row.liquidatedTraderAddress !== undefined &&
    row.liquidatedStrategyIdHash !== undefined &&
    same(row.liquidatedTraderAddress, us.traderAddress) &&
    same(row.liquidatedStrategyIdHash, us.strategyIdHash)
  );
}

export function sideOfIntent(intent: OrderIntentRow): Side {
  return intent.side === ORDER_SIDE.Bid ? 'buy' : 'sell';
}

/** The ledger events an ORDER_UPDATE row stands for, for strategy `us` (usually none or one). */
export function ledgerEventsOfOrderUpdate(row: AnyOrderUpdate, us: StrategyIdentity): UnsequencedEvent[] {
  const events: UnsequencedEvent[] = [];
  const trade = row.reason === ORDER_UPDATE_REASON.Trade;
  const liquidation = row.reason === ORDER_UPDATE_REASON.Liquidation;
  if (!trade && !liquidation) return events;
  if (row.amount === undefined || row.price === undefined) return events;
  const filled = dec(row.amount).gt(0);
  if (liquidation && isLiquidated(row, us)) {
    events.push({ kind: 'liquidation', id: '', symbol: row.symbol, price: str(row.price) });
  }
  if (filled) {
    for (const { role, intent } of ourIntents(row, us)) {
      // A Liquidation row's taker is the venue's own closing order: only its maker can be ours.
      if (liquidation && role !== 'maker') continue;
      const fee = role === 'maker' ? row.makerFeeCollateral : row.takerFeeCollateral;
      const event: UnsequencedEvent = {
        kind: 'fill',
        id: '',
        symbol: row.symbol,
        side: sideOfIntent(intent),
        amount: str(row.amount),
        price: str(row.price),
      };
      if (fee !== undefined) event.fee = str(fee);
      events.push(event);
    }
  }
  // One id per row and family; a second event of the same row (never seen in practice) gets a suffix.
  return events.map((e, i) => ({ ...e, id: i === 0 ? `order:${row.globalOrdinal}` : `order:${row.globalOrdinal}:${i}` }));
}

/** The ledger event a STRATEGY_UPDATE row stands for, if any (see the module comment for why most have none). */
export function ledgerEventOfStrategyUpdate(row: AnyStrategyUpdate): UnsequencedEvent | undefined {
  if (row.amount === undefined) return undefined;
  const id = `strategy:${row.globalOrdinal}`;
  const change = dec(row.amount);
  switch (row.reason) {
    case STRATEGY_UPDATE_REASON.Deposit:
      return { kind: 'deposit', id, amount: str(change.abs()) };
    case STRATEGY_UPDATE_REASON.WithdrawIntent:
      return { kind: 'withdrawal', id, amount: str(change.abs()) };
    case STRATEGY_UPDATE_REASON.FundingPayment:
      return { kind: 'funding', id, amount: str(change) };
    default:
      return undefined;
  }
}

/** STRATEGY_UPDATE reasons whose `newAvailCollateral` is compared with the ledger after the rows before them (§10.6). */
export const CHECKED_REASONS: ReadonlySet<number> = new Set([
  STRATEGY_UPDATE_REASON.Deposit,
  STRATEGY_UPDATE_REASON.WithdrawIntent,
  STRATEGY_UPDATE_REASON.FundingPayment,
  STRATEGY_UPDATE_REASON.Fee,
  STRATEGY_UPDATE_REASON.Liquidation,
]);

/** What a STRATEGY_UPDATE row says the strategy holds after it, for reconciliation. */
export interface VenueBalance {
  globalOrdinal: number;
  /** `newAvailCollateral`, when the row has it. */
  collateral?: string;
  /** Signed sizes of the positions the row reports (realtime rows only: REST positions have no `balance`). */
  positions?: Array<{ symbol: string; size: string }>;
}

export function balanceOfStrategyUpdate(row: AnyStrategyUpdate): VenueBalance {
  const balance: VenueBalance = { globalOrdinal: row.globalOrdinal };
  if (row.newAvailCollateral !== undefined) balance.collateral = str(row.newAvailCollateral);
  const positions: Array<{ symbol: string; size: string }> = [];
  for (const p of row.positions ?? []) {
    const held = 'balance' in p && typeof p.balance === 'string' ? p.balance : undefined;
    if (held === undefined) return balance;
    // PositionSide 1 Long, 2 Short (SDK models/base.py, §6.6).
    const size = dec(held);
    positions.push({ symbol: p.symbol, size: str(p.side === 2 ? size.neg() : size) });
  }
  if (row.positions !== undefined && row.positions !== null) balance.positions = positions;
  return balance;
}
