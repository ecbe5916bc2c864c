import { dec, str } from '../domain/decimal.ts';
import type { LedgerEvent } from '../domain/ledger.ts';
import type { OrderUpdateRow, StrategyUpdateRow } from './protocol.ts';

/*
 * Venue rows → domain ledger events.
 *
 * The ledger is fed from two feeds, and each economic fact must enter it exactly once:
 * - ORDER_UPDATE Trade → a `fill` carrying its fee (id `${orderHash}:${globalOrdinal}`, seq =
 *   globalOrdinal). ORDER_UPDATE Liquidation with a fill → a `liquidation` (the venue closed the whole
 *   position at the fill price), same id scheme. Post / Cancellation / rejections move no money.
 * - STRATEGY_UPDATE Deposit / Withdraw / FundingPayment → `deposit` / `withdrawal` / `funding`
 *   (id `strategy:${globalOrdinal}`): these facts exist on no other feed.
 * - STRATEGY_UPDATE Trade / Fee / PnlSettlement / Liquidation / ADL are NOT ledger events: they are the
 *   collateral side of fills the ORDER_UPDATE feed already reported, so applying them would count each
 *   trade twice. Their `collateral` (and position) after the update is what the ledger is reconciled
 *   against instead. WithdrawIntent moves nothing yet.
 *
 * `seq` is the venue's globalOrdinal, unique across both feeds, so the ledger can order late events.
 */

function fillId(row: OrderUpdateRow): string {
  return `${row.orderHash.toLowerCase()}:${row.globalOrdinal}`;
}

/** The ledger event an ORDER_UPDATE row stands for, if any. */
export function ledgerEventOfOrderUpdate(row: OrderUpdateRow): LedgerEvent | undefined {
  if (row.fillAmount === undefined || row.fillPrice === undefined || !dec(row.fillAmount).gt(0)) return undefined;
  if (row.reason === 1) {
    const event: LedgerEvent = {
      kind: 'fill',
      id: fillId(row),
      seq: row.globalOrdinal,
      symbol: row.symbol,
      side: row.side === 0 ? 'buy' : 'sell',
      amount: str(row.fillAmount),
      price: str(row.fillPrice),
    };
    if (row.fee !== undefined) event.fee = str(row.fee);
    return event;
  }
  if (row.reason === 2) {
    return { kind: 'liquidation', id: fillId(row), seq: row.globalOrdinal, symbol: row.symbol, price: str(row.fillPrice) };
  }
  return undefined;
}

/** The ledger event a STRATEGY_UPDATE row stands for, if any (see the module comment for why most have none). */
export function ledgerEventOfStrategyUpdate(row: StrategyUpdateRow): LedgerEvent | undefined {
  const id = `strategy:${row.globalOrdinal}`;
  const change = dec(row.collateralChange);
  switch (row.reason) {
    case 0:
      return { kind: 'deposit', id, seq: row.globalOrdinal, amount: str(change.abs()) };
    case 1:
      return { kind: 'withdrawal', id, seq: row.globalOrdinal, amount: str(change.abs()) };
    case 3:
      return { kind: 'funding', id, seq: row.globalOrdinal, amount: str(change) };
    default:
      return undefined;
  }
}

/** What a STRATEGY_UPDATE row says the strategy holds after it, for reconciliation. */
export interface VenueBalance {
  globalOrdinal: number;
  collateral: string;
  /** Present when the row reports a position: signed size ("0" when flat). */
  position?: { symbol: string; size: string };
}

export function balanceOfStrategyUpdate(row: StrategyUpdateRow): VenueBalance {
  const balance: VenueBalance = { globalOrdinal: row.globalOrdinal, collateral: str(row.collateral) };
  if (row.symbol !== undefined && row.positionSize !== undefined) {
    const size = dec(row.positionSize);
    const signed = row.positionSide === 1 ? size.neg() : row.positionSide === 0 ? size : dec(0);
    balance.position = { symbol: row.symbol, size: str(signed) };
  }
  return balance;
}
