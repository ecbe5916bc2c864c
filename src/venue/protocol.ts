/**
 * The DerivaDEX wire protocol as riskwarden speaks it: WebSocket frames, REST shapes and codes.
 * The client and the simulator both import these types, so they cannot drift apart.
 * Decimals travel as strings; times as ISO 8601 strings (`createdAt`) or unix seconds (`timestamp`).
 */

/**
 * WebSocket close code a venue uses when it drops connections on purpose (1012 Service Restart). A
 * simulation counts such a close as a frame in flight until the client has handled it.
 */
export const SERVER_CLOSE_CODE = 1012;

export const FEEDS = ['MARK_PRICE', 'ORDER_BOOK_L2', 'ORDER_UPDATE', 'STRATEGY_UPDATE'] as const;
export type Feed = (typeof FEEDS)[number];

// ── WebSocket: client → venue ────────────────────────────────────────────────────────────────

export interface FeedSubscription {
  feed: Feed;
  /** MARK_PRICE / ORDER_BOOK_L2: `{symbols: [...]}`; ORDER_UPDATE / STRATEGY_UPDATE: `{trader, strategyIdHash?}`. */
  params: { symbols?: string[]; trader?: string; strategyIdHash?: string };
}

export interface SubscribeRequest {
  action: 'SUBSCRIBE' | 'UNSUBSCRIBE';
  nonce: string;
  feeds: FeedSubscription[];
}

// ── WebSocket: venue → client ────────────────────────────────────────────────────────────────

/** Ack of a (un)subscribe: `result: {}` or `result: {error: "..."}`. */
export interface SubscribeAck {
  action: 'SUBSCRIBE' | 'UNSUBSCRIBE';
  nonce: string;
  result: { error?: string };
}

export type MessageType = 'PARTIAL' | 'UPDATE';

/** A feed message. `ordinal` is per connection and strictly increasing by 1: a gap means repair. */
export interface FeedMessage<Row = unknown> {
  sequence: number;
  ordinal: number;
  feed: Feed;
  subscriptionKey: string;
  contents: { messageType: MessageType; data: Row[] };
}

export interface MarkPriceRow {
  globalOrdinal: number;
  epochId: number;
  symbol: string;
  price: string;
  fundingRate: string;
  createdAt: string;
}

/** ORDER_BOOK_L2 row: one aggregated price level. */
export interface BookLevelRow {
  symbol: string;
  side: 0 | 1; // 0 Bid, 1 Ask
  price: string;
  amount: string;
}

/** ORDER_UPDATE `reason`. */
export const ORDER_UPDATE_REASON = {
  Post: 0,
  Trade: 1,
  Liquidation: 2,
  Cancellation: 3,
  OrderRejection: 4,
  CancelRejection: 5,
} as const;
export type OrderUpdateReason = (typeof ORDER_UPDATE_REASON)[keyof typeof ORDER_UPDATE_REASON];

/** ORDER_UPDATE `orderRejection` codes. */
export const ORDER_REJECTION = {
  SelfMatch: 0,
  SolvencyGuard: 1,
  MaxTakerPriceDeviation: 2,
  NoLiquidity: 3,
} as const;
export type OrderRejectionName = keyof typeof ORDER_REJECTION;
export type OrderRejectionCode = (typeof ORDER_REJECTION)[OrderRejectionName];

export interface OrderUpdateRow {
  globalOrdinal: number;
  epochId: number;
  orderHash: string; // 0x + 25 bytes
  symbol: string;
  trader: string;
  strategyIdHash: string;
  side: 0 | 1;
  orderType: 0 | 1;
  amount: string; // original amount
  price: string; // "0" for market
  reason: OrderUpdateReason;
  /** Present for reason Trade / Liquidation: this fill. */
  fillAmount?: string;
  fillPrice?: string;
  fee?: string;
  /** Cumulative filled amount of the order after this update. */
  filledAmount: string;
  /** Amount still working on the book after this update ("0" when done). */
  remainingAmount: string;
  /** Present for reason OrderRejection. */
  orderRejection?: OrderRejectionCode;
  /** Present for reason CancelRejection: why the cancel failed. */
  cancelRejection?: string;
  tradeId?: string;
  createdAt: string;
}

/** STRATEGY_UPDATE `reason`. */
export const STRATEGY_UPDATE_REASON = {
  Deposit: 0,
  Withdraw: 1,
  WithdrawIntent: 2,
  FundingPayment: 3,
  PnlSettlement: 4,
  Trade: 5,
  Fee: 6,
  Liquidation: 7,
  ADL: 8,
} as const;
export type StrategyUpdateReason = (typeof STRATEGY_UPDATE_REASON)[keyof typeof STRATEGY_UPDATE_REASON];

export interface StrategyUpdateRow {
  globalOrdinal: number;
  epochId: number;
  trader: string;
  strategyIdHash: string;
  reason: StrategyUpdateReason;
  /** Signed change of collateral (deposit +, withdraw −, funding ±, fee −, realized pnl ±). */
  collateralChange: string;
  /** Collateral after this update. */
  collateral: string;
  /** For Trade / Liquidation / ADL: the symbol and the signed position after the update. */
  symbol?: string;
  positionSide?: 0 | 1 | null; // 0 long, 1 short, null flat
  positionSize?: string; // absolute
  avgEntryPrice?: string;
  tradeId?: string;
  createdAt: string;
}

// ── REST ─────────────────────────────────────────────────────────────────────────────────────

/** Every REST answer: `{value, success, timestamp}` (unix seconds); on failure `value` is an error. */
export interface RestEnvelope<T> {
  value: T;
  success: boolean;
  timestamp: number;
}

export interface RestError {
  code: HttpErrorName;
  message: string;
}

export interface ExchangeInfoSymbol {
  symbol: string;
  tickSize: string;
  minOrderSize: string;
  maxOrderNotional: string;
  maxTakerPriceDeviation: string;
  /** Extension: margin parameters, so a client needs no second source. */
  maxLeverage?: string;
  mmr?: string;
}

export interface ExchangeInfo {
  symbols: ExchangeInfoSymbol[];
  chainId: number;
  verifyingContract: string;
  /** Amounts and prices in signed requests are integers scaled by 10^this (a venue setting: 6 or 18). */
  amountScaleDecimals: number;
}

export interface StrategyPosition {
  symbol: string;
  side: 0 | 1; // long / short
  size: string;
  avgEntryPrice: string;
}

export interface StrategyState {
  trader: string;
  strategyId: string;
  strategyIdHash: string;
  collateral: string;
  positions: StrategyPosition[];
  /** The globalOrdinal this state reflects: replay updates after it. */
  globalOrdinal: number;
}

export interface OpenOrder {
  orderHash: string;
  symbol: string;
  side: 0 | 1;
  orderType: 0 | 1;
  amount: string;
  price: string;
  filledAmount: string;
  remainingAmount: string;
  nonce: string;
  createdAt: string;
}

/** Receipt of `POST /v2/request`: the request was sequenced; its outcome arrives on ORDER_UPDATE. */
export interface RequestReceipt {
  nonce: string;
  requestIndex: number;
  sequenced: true;
  /** For orders and cancels: the order concerned. */
  orderHash?: string;
}

/** Documented HTTP errors of the request endpoint. */
export const HTTP_ERRORS = {
  InvalidRequestPayload: 400,
  IllegalNonce: 412,
  ExpiredTimestamp: 412,
  InvalidEncryption: 422,
  SafetyFailure: 422,
  RateLimit: 429,
  ServiceUnavailable: 503,
} as const;
export type HttpErrorName = keyof typeof HTTP_ERRORS | 'NotFound';

/** REST paths. */
export const PATHS = {
  exchangeInfo: '/exchange/api/v1/exchange_info',
  encryptionKey: '/v2/encryption-key',
  request: '/v2/request',
  /** `?trader=&strategyId=` */
  strategy: '/stats/api/v1/account/strategy',
  /** `?trader=&strategyIdHash=&symbol=` */
  openOrders: '/stats/api/v1/account/open_orders',
  /** `?trader=&strategyIdHash=&sinceOrdinal=` — ORDER_UPDATE rows with globalOrdinal > sinceOrdinal */
  orderUpdates: '/stats/api/v1/account/order_updates',
  /** `?trader=&strategyIdHash=&sinceOrdinal=` */
  strategyUpdates: '/stats/api/v1/account/strategy_updates',
  /** `?symbols=&sinceOrdinal=` */
  markPrices: '/exchange/api/v1/mark_prices',
} as const;
