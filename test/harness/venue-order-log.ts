import { ORDER_SIDE, ORDER_UPDATE_REASON } from '../../src/derivadex/codes.ts';
import { strategyIdHash as hashOfStrategy } from '../../src/derivadex/crypto/bytes32.ts';
import type { OrderUpdateHistoryRow } from '../../src/derivadex/order-update.ts';
import { traderKey } from '../../src/derivadex/trader-address.ts';
import { dec, str, ZERO, type Decimal } from '../../src/domain/decimal.ts';

/*
 * The venue's own order log, judged: "at most one reduce/exit order of the risk layer in flight per
 * account, never a flip" — counted from the simulator's ORDER_UPDATE history, not from what any process
 * says it did.
 *
 *   const rows = sim.exchange.orderUpdates({ trader, strategyIdHash, limit: 100_000 }).value;
 *   const { overlaps, flips } = checkOrderLog(rows, { trader, strategy: 'alpha', startPositions: { ETHP: '1' } });
 *   expect(overlaps).toEqual([]); expect(flips).toEqual([]);
 *
 * - The order a row is about is each of its intents (`makerOrderIntent`, and `takerOrderIntent` on a
 *   trade) that belongs to the trader+strategy; rows of other traders or strategies are ignored.
 * - An order lives from its first row to its terminal row (by `globalOrdinal`): a Cancellation (also a
 *   market order's unfilled rest), an OrderRejection, or the Trade that fills its whole amount. An order
 *   with no terminal row is still open (it ends at +Infinity).
 * - Risk-layer reducing orders are those `reducing(order)` accepts; by default every order of the
 *   strategy (right for a fleet whose entries are sent past the risk layer: give `reducing` a predicate
 *   that leaves those out, e.g. by the hashes the entry client got back).
 * - Overlap: two reducing orders whose lifetimes intersect (one's first row comes before the other's
 *   terminal row). The account-wide rule is per trader+strategy, whatever the symbols.
 * - Flip: a reducing order's fill that leaves a symbol's position on the other side of the last side it
 *   held before that order began (long 5 → short 5, also through flat: an exit sent twice). Positions
 *   start at `startPositions` (signed, default flat), move with every Trade fill of the strategy and go
 *   flat on a Liquidation row naming it.
 */

export interface LoggedOrder {
  orderHash: string;
  symbol: string;
  side: 'buy' | 'sell';
  amount: string;
  /** Sum of this order's Trade fills. */
  filled: string;
  /** globalOrdinal of its first row. */
  first: number;
  /** globalOrdinal of its terminal row; Infinity while it is open. */
  end: number;
  /** How it ended (undefined: still open). */
  outcome?: 'filled' | 'cancelled' | 'rejected';
  /** Signed position of its symbol just before its first row. */
  positionBefore: string;
}

export interface OrderOverlap {
  /** The order that was in flight. */
  first: string;
  /** The order that reached the venue while it was. */
  second: string;
  /** globalOrdinal of the second order's first row. */
  at: number;
}

export interface PositionFlip {
  orderHash: string;
  symbol: string;
  /** Signed position before the fill that flipped it, and after. */
  before: string;
  after: string;
  /** The side held before the order began: 1 long, −1 short. */
  heldSide: 1 | -1;
  at: number;
}

export interface OrderLogOptions {
  /** The fleet's trader (20-byte or 21-byte address). */
  trader: string;
  /** The venue strategy id (e.g. 'alpha'), or give `strategyIdHash` instead. */
  strategy?: string;
  strategyIdHash?: string;
  /** Signed position per symbol before the first row (default flat). */
  startPositions?: Readonly<Record<string, string>>;
  /** Which orders are the risk layer's reduce/exit orders (default: all). */
  reducing?: (order: LoggedOrder) => boolean;
}

export interface OrderLogReport {
  /** Every order of the strategy, by first row. */
  orders: LoggedOrder[];
  overlaps: OrderOverlap[];
  flips: PositionFlip[];
  /** Signed position per symbol after the last row. */
  positions: Record<string, string>;
}

interface Working extends Omit<LoggedOrder, 'filled'> {
  filledDec: Decimal;
  heldSide: 0 | 1 | -1;
}

/** Judges one trader+strategy's order history; see the comment at the top of this file. */
export function checkOrderLog(rows: readonly OrderUpdateHistoryRow[], options: OrderLogOptions): OrderLogReport {
  const trader = traderKey(options.trader);
  const strategyHash = (
    options.strategyIdHash ?? (options.strategy === undefined ? undefined : hashOfStrategy(options.strategy))
  )?.toLowerCase();
  if (strategyHash === undefined) throw new Error('checkOrderLog: give options.strategy or options.strategyIdHash');
  const reducing = options.reducing ?? (() => true);
  const positions = new Map<string, Decimal>(Object.entries(options.startPositions ?? {}).map(([s, p]) => [s, dec(p)]));
  // The last side each symbol was held on (a flip through flat is still a flip).
  const lastSide = new Map<string, 1 | -1>();
  for (const [symbol, p] of positions) if (!p.isZero()) lastSide.set(symbol, p.isPos() ? 1 : -1);
  const orders = new Map<string, Working>();
  const flips: PositionFlip[] = [];
  const ours = (intent: OrderUpdateHistoryRow['makerOrderIntent'] | undefined) =>
    intent !== undefined &&
    intent.orderHash !== '' &&
    intent.traderAddress.toLowerCase() === trader &&
    intent.strategyIdHash.toLowerCase() === strategyHash;

  for (const row of [...rows].sort((a, b) => a.globalOrdinal - b.globalOrdinal)) {
    if (
      row.reason === ORDER_UPDATE_REASON.Liquidation &&
      row.liquidatedTraderAddress?.toLowerCase() === trader &&
      row.liquidatedStrategyIdHash?.toLowerCase() === strategyHash
    ) {
      positions.set(row.symbol, ZERO);
      continue;
    }
    for (const intent of [row.makerOrderIntent, row.takerOrderIntent]) {
      if (!ours(intent) || intent === undefined) continue;
      const hash = intent.orderHash.toLowerCase();
      let order = orders.get(hash);
      if (order === undefined) {
        const before = positions.get(intent.symbol) ?? ZERO;
        order = {
          orderHash: hash,
          symbol: intent.symbol,
          side: intent.side === ORDER_SIDE.Bid ? 'buy' : 'sell',
          amount: intent.amount,
          filledDec: ZERO,
          first: row.globalOrdinal,
          end: Number.POSITIVE_INFINITY,
          positionBefore: str(before),
          heldSide: before.isZero() ? (lastSide.get(intent.symbol) ?? 0) : before.isPos() ? 1 : -1,
        };
        orders.set(hash, order);
      }
      if (order.end !== Number.POSITIVE_INFINITY) continue; // a late row of an ended order moves nothing
      if (row.reason === ORDER_UPDATE_REASON.Trade && row.amount !== undefined) {
        const fill = dec(row.amount);
        order.filledDec = order.filledDec.plus(fill);
        const before = positions.get(order.symbol) ?? ZERO;
        const after = order.side === 'buy' ? before.plus(fill) : before.minus(fill);
        positions.set(order.symbol, after);
        if (!after.isZero()) lastSide.set(order.symbol, after.isPos() ? 1 : -1);
        const sideAfter = after.isZero() ? 0 : after.isPos() ? 1 : -1;
        if (order.heldSide !== 0 && sideAfter === -order.heldSide && reducing(loggedOrder(order))) {
          flips.push({
            orderHash: hash,
            symbol: order.symbol,
            before: str(before),
            after: str(after),
            heldSide: order.heldSide,
            at: row.globalOrdinal,
          });
        }
        if (order.filledDec.gte(order.amount)) {
          order.end = row.globalOrdinal;
          order.outcome = 'filled';
        }
      } else if (row.reason === ORDER_UPDATE_REASON.Cancellation) {
        order.end = row.globalOrdinal;
        order.outcome = 'cancelled';
      } else if (row.reason === ORDER_UPDATE_REASON.OrderRejection) {
        order.end = row.globalOrdinal;
        order.outcome = 'rejected';
      }
    }
  }

  const logged = [...orders.values()].sort((a, b) => a.first - b.first).map(loggedOrder);
  const reducers = logged.filter((o) => reducing(o));
  const overlaps: OrderOverlap[] = [];
  for (let i = 0; i < reducers.length; i += 1) {
    for (let j = i + 1; j < reducers.length; j += 1) {
      const a = reducers[i]!;
      const b = reducers[j]!;
      if (b.first < a.end) overlaps.push({ first: a.orderHash, second: b.orderHash, at: b.first });
    }
  }
  return { orders: logged, overlaps, flips, positions: Object.fromEntries([...positions].map(([s, p]) => [s, str(p)])) };
}

function loggedOrder(o: Working): LoggedOrder {
  return {
    orderHash: o.orderHash,
    symbol: o.symbol,
    side: o.side,
    amount: o.amount,
    filled: str(o.filledDec),
    first: o.first,
    end: o.end,
    ...(o.outcome ? { outcome: o.outcome } : {}),
    positionBefore: o.positionBefore,
  };
}
