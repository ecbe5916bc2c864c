/*
 * The integer codes DerivaDEX puts on the wire, name → code. Source: the SDK's shared enums
 * (ddx `models/base.py`, the newest version), the order and account event reference (docs
 * reference-public/order-and-account-event-reference) and the strategy update history page
 * (docs get-strategy-update-history). docs/derivadex-sources.md §6 lists where older versions differ.
 */

/** ORDER_UPDATE `reason` (§6.1). */
export const ORDER_UPDATE_REASON = {
  Post: 0,
  Trade: 1,
  Liquidation: 2,
  Cancellation: 3,
  OrderRejection: 4,
  CancelRejection: 5,
} as const;
export type OrderUpdateReason = (typeof ORDER_UPDATE_REASON)[keyof typeof ORDER_UPDATE_REASON];

/** ORDER_UPDATE `orderRejection` (§6.2). */
export const ORDER_REJECTION = {
  SelfMatch: 0,
  SolvencyGuard: 1,
  MaxTakerPriceDeviation: 2,
  NoLiquidity: 3,
  InvalidStrategy: 4,
  PostOnlyViolation: 5,
} as const;
export type OrderRejectionName = keyof typeof ORDER_REJECTION;
export type OrderRejectionCode = (typeof ORDER_REJECTION)[OrderRejectionName];

/** ORDER_UPDATE `cancelRejection` (§6.3): an integer, with one documented value. */
export const CANCEL_REJECTION = { InvalidOrder: 0 } as const;
export type CancelRejectionName = keyof typeof CANCEL_REJECTION;
export type CancelRejectionCode = (typeof CANCEL_REJECTION)[CancelRejectionName];

/** STRATEGY_UPDATE `reason` (§6.4). */
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
  WithdrawRejection: 9,
} as const;
export type StrategyUpdateReason = (typeof STRATEGY_UPDATE_REASON)[keyof typeof STRATEGY_UPDATE_REASON];

/** STRATEGY_UPDATE `withdrawRejection` (§6.5). */
export const WITHDRAW_REJECTION = {
  InvalidStrategy: 0,
  InvalidInsuranceFundContribution: 1,
  MaxWithdrawalAmount: 2,
  InsufficientInsuranceFundContribution: 3,
  InsufficientRemainingInsuranceFund: 4,
} as const;
export type WithdrawRejectionCode = (typeof WITHDRAW_REJECTION)[keyof typeof WITHDRAW_REJECTION];

/** Position side in positions and STRATEGY_UPDATE `positions` (§6.6; the newest SDK: 1 Long, 2 Short). */
export const POSITION_SIDE = { Long: 1, Short: 2 } as const;
export type PositionSideCode = (typeof POSITION_SIDE)[keyof typeof POSITION_SIDE];

/** Order side in rows, books and intents (§6.7); requests spell it `"Bid"` / `"Ask"`. */
export const ORDER_SIDE = { Bid: 0, Ask: 1 } as const;
export type OrderSideName = keyof typeof ORDER_SIDE;
export type OrderSideCode = (typeof ORDER_SIDE)[OrderSideName];

/** Order type, in rows and in the request's `orderType` alike (§6.8). */
export const ORDER_TYPE = { Limit: 0, Market: 1, Stop: 2, LimitPostOnly: 3 } as const;
export type OrderTypeName = keyof typeof ORDER_TYPE;
export type OrderTypeCode = (typeof ORDER_TYPE)[OrderTypeName];

/**
 * The request endpoint's error classes and their HTTP status (docs reference-public/error-reference and
 * api-reference/rest/errors, §4.5).
 */
export const REQUEST_ERRORS = {
  InvalidRequestPayload: 400,
  InvalidRecvWindow: 400,
  SignerNotFound: 401,
  SessionUnauthorized: 401,
  Forbidden: 403,
  KycNotFound: 404,
  IllegalNonce: 412,
  ExpiredTimestamp: 412,
  FutureTimestamp: 412,
  NotAcceptingRequests: 421,
  InvalidEncryption: 422,
  SafetyFailure: 422,
  RateLimit: 429,
  InternalServerError: 500,
  ServiceUnavailable: 503,
} as const;
export type RequestErrorReason = keyof typeof REQUEST_ERRORS;

/**
 * The operator's `SafetyFailure` variants, the `inner` of a SafetyFailure receipt (the operator's
 * enclave crate, mirrored as a unit enum by the SDK's `models/signed.py`; §4.4).
 */
export const SAFETY_FAILURES = [
  'TraderNotFound',
  'NotEnoughCollateral',
  'NoStrategies',
  'StrategyNotFound',
  'SignatureRecoveryMismatch',
  'InsuranceFundContributionNotFound',
  'MaxOrderNotionalBreached',
  'MaxTakerPriceDeviationBreached',
  'OrderNotFound',
  'OMFLessThanIMF',
  'MaxWithdrawAmountBreached',
  'MaxDDXWithdrawAmountBreached',
  'TooMuchCollateralToWithdrawDDX',
  'MaxInsuranceFundWithdrawBreached',
  'OrderPriceNeg',
  'OrderAmountZeroNeg',
  'OrderAmountNotMultipleOfMinOrderSize',
  'OrderTypeIncompatibleWithPrice',
  'PriceNotMultipleOfTickSize',
  'UnsupportedMarket',
  'UnsupportedCurrency',
  'TooManyOrders',
  'WithdrawAmountZeroNeg',
  'WithdrawDDXAmountZeroNeg',
  'WithdrawInsuranceFundZeroNeg',
  'AccessDenied',
  'Unexpected',
] as const;
export type SafetyFailureName = (typeof SAFETY_FAILURES)[number];

/** The name of `code` in `table`, or `code <n>` for one the table does not know. */
export function codeName(table: Readonly<Record<string, number>>, code: number): string {
  for (const [name, value] of Object.entries(table)) if (value === code) return name;
  return `code ${code}`;
}

/** The codes of a table, for `z.literal([...])`. */
export function codesOf<T extends Readonly<Record<string, number>>>(table: T): [T[keyof T], ...T[keyof T][]] {
  return Object.values(table) as [T[keyof T], ...T[keyof T][]];
}
