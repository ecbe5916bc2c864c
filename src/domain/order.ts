import type { DecimalString } from './decimal.ts';

export type Side = 'buy' | 'sell';
export type OrderType = 'market' | 'limit';

/** An order as a strategy or the risk layer asks for it, before it reaches the venue. */
export interface OrderIntent {
  symbol: string;
  side: Side;
  amount: DecimalString;
  type: OrderType;
  /** Limit price; "0" or absent for market orders. */
  price?: DecimalString;
}

/**
 * Why an order exists (timeline `purpose`): `entry` opens or adds exposure, `close` only reduces the
 * strategy's own position, `reduce` is a de-risking order, `exit` a panic-exit order.
 */
export const ORDER_PURPOSES = ['entry', 'close', 'reduce', 'exit'] as const;
export type OrderPurpose = (typeof ORDER_PURPOSES)[number];
