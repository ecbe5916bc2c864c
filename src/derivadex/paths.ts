/*
 * Where things live on a DerivaDEX gateway. Sources: the SDK's endpoint constants (ddx
 * `rest_client/constants/endpoints.py`, the `System` / `Signed` / `Trade` / `Market` classes), the REST
 * pages of docs.derivadex.com, and the realtime connection model page (docs/derivadex-sources.md §1–§5).
 */

export const PATHS = {
  /** `?contractDeployment=` → bare `DeploymentInfo` (chain id, the DerivaDEX contract). SDK `System.GET_DEPLOYMENT_INFO`. */
  deploymentInfo: '/contract-server/addresses',
  /** Enveloped `ExchangeInfo`. */
  exchangeInfo: '/exchange/api/v1/exchange_info',
  /** Bare JSON string: the operator's compressed secp256k1 key. SDK `Signed.ENCRYPTION_KEY`. */
  encryptionKey: '/v2/encryption-key',
  /** `POST`, body = encrypted bytes → bare `TradeReceipt`. SDK `Signed.SUBMIT_REQUEST`. */
  request: '/v2/request',
  /** `?trader=&strategyId=` → `Strategy | null`. SDK `Trade.GET_STRATEGY`. */
  strategy: '/stats/api/v1/strategy',
  /** `?trader=&strategyId=&symbol=&limit=&offset=` → `Position[]`. SDK `Trade.GET_STRATEGY_POSITIONS`. */
  positions: '/stats/api/v1/positions',
  /** `?trader=&strategyId=` → `StrategyMetrics`. */
  strategyMetrics: '/stats/api/v1/strategy_metrics',
  /** `?trader=&strategyIdHash=&symbol=&orderHash=&reason=&globalOrdinal=&limit=&order=` → paged `OrderUpdate[]`. */
  orderUpdates: '/exchange/api/v1/order_updates',
  /** `?trader=&strategyIdHash=&reason=&globalOrdinal=&limit=&order=` → paged `StrategyUpdate[]`. */
  strategyUpdates: '/exchange/api/v1/strategy_updates',
  /** L3 book: `?trader=&strategyIdHash=&symbol=&side=&depth=` → `OrderBookL3Entry[]` (the only open-orders view). */
  orderBookL3: '/exchange/api/v1/order_book',
  /** `?symbol=&globalOrdinal=&limit=&order=` → paged `MarkPrice[]`. */
  markPrices: '/exchange/api/v1/mark_prices',
} as const;

export type RestPath = (typeof PATHS)[keyof typeof PATHS];

/** The realtime API's path (`wss://exchange.derivadex.com/realtime-api`). */
export const REALTIME_PATH = '/realtime-api';

/** Page size of the history endpoints when none is asked for (docs: "default 500"). */
export const DEFAULT_PAGE_LIMIT = 500;

/**
 * WebSocket close code a venue uses when it drops connections on purpose (1012 Service Restart). A
 * simulation counts such a close as a frame in flight until the client has handled it.
 */
export const SERVER_CLOSE_CODE = 1012;
