// @ts-check
// The JSON the dashboard reads from /api/v1, as JSDoc types: the shapes of src/api/api-types.ts (which the
// browser cannot load) as far as the dashboard reads them. Types only: nothing here runs, and no module
// imports this file at run time (only `import('./api-types.js')` in JSDoc).

/** @typedef {'trading' | 'entries-blocked' | 'de-risking' | 'panic-exit' | 'stopped-out'} AccountMode */
/** @typedef {'fleet' | 'portfolio' | 'member' | 'strategy' | 'account' | 'subscription' | 'subscriber'} StopoutScope */
/** @typedef {'entry' | 'close' | 'reduce' | 'exit'} OrderPurpose */
/** A decimal as the API writes it: an exact canonical string, never a float. @typedef {string} DecimalString */

/**
 * GET /fleet — one row per supervised account.
 * @typedef {object} FleetRow
 * @property {string} id
 * @property {AccountMode} state
 * @property {string} detail Full nested state path, e.g. "de-risking.awaiting".
 * @property {string[]} portfolios
 * @property {Record<string, DecimalString>} position
 * @property {DecimalString} grossNotional
 * @property {DecimalString} equity
 * @property {DecimalString | null} marginBuffer
 * @property {DecimalString | null} minMarginBuffer
 * @property {DecimalString | null} panicMarginBuffer
 * @property {DecimalString} sessionPnl
 * @property {string[]} stopouts `scope:id:reason` of every stopout in force on the account.
 */

/**
 * @typedef {object} FleetResponse
 * @property {string} at ISO 8601 of the clock the fleet runs on (simulated in a scenario).
 * @property {FleetRow[]} accounts
 * @property {string[]} portfolios
 */

/**
 * @typedef {object} WorkingOrder
 * @property {string} orderId
 * @property {string} purpose
 * @property {string} side
 * @property {DecimalString} amount
 * @property {DecimalString} price "0" for a market order.
 * @property {string} status
 * @property {DecimalString} filled
 */

/**
 * GET /accounts/{id}
 * @typedef {FleetRow & AccountDetailFields} AccountResponse
 */
/**
 * @typedef {object} AccountDetailFields
 * @property {{ maxGrossNotional?: DecimalString }} budget
 * @property {DecimalString | null} marginFraction
 * @property {DecimalString} maintenance
 * @property {WorkingOrder[]} workingOrders
 * @property {DecisionRecord[]} decisions The most recent decisions (newest last).
 * @property {TimelineRecord[]} timeline Recent records about this account and the marks of its symbols (newest last).
 */

/**
 * GET /stopouts — one stored stopout.
 * @typedef {object} StoredStopout
 * @property {StopoutScope} scope
 * @property {string} id
 * @property {string} reason
 * @property {boolean} closePositions
 * @property {string} [stoppedAt] ISO 8601.
 * @property {string} [stoppedTill] ISO 8601; absent means until reset.
 * @property {number} [sequence]
 * @property {string} [by]
 * @property {string} [malformed] Set when the stored value could not be read (the stopout still counts).
 */

/** @typedef {{ stopouts: StoredStopout[] }} StopoutsResponse */

/**
 * @typedef {object} OrderIntent
 * @property {string} symbol
 * @property {'buy' | 'sell'} side
 * @property {DecimalString} amount
 * @property {'market' | 'limit'} type
 * @property {DecimalString} [price] Limit price; "0" or absent for market orders.
 */

// Timeline records (docs/contracts.md#timeline), as the live socket and GET /accounts/{id} send them. `t` is milliseconds
// since the scenario or session start.

/** @typedef {{ t: number, kind: 'mark', symbol: string, price: DecimalString }} MarkRecord */
/**
 * @typedef {{ t: number, kind: 'state', account: string, from: AccountMode, to: AccountMode, reason: string,
 *   detail?: string }} StateRecord
 */
/**
 * @typedef {{ t: number, kind: 'decision', account: string, allowed: boolean, rules: string[], order: OrderIntent,
 *   reasons?: string[] }} DecisionRecord
 */
/**
 * @typedef {{ t: number, kind: 'order', account: string, orderId: string, symbol: string, side: 'buy' | 'sell', amount: DecimalString,
 *   price: DecimalString, type: 'market' | 'limit', purpose: OrderPurpose }} OrderRecord
 */
/** @typedef {{ t: number, kind: 'cancel', account: string, orderId: string, reason: string }} CancelRecord */
/**
 * @typedef {{ t: number, kind: 'order-update', account: string, orderId: string, status: string, filled: DecimalString,
 *   reason?: string }} OrderUpdateRecord
 */
/**
 * @typedef {{ t: number, kind: 'risk', account: string, position: Record<string, DecimalString>, grossNotional: DecimalString,
 *   equity: DecimalString, marginFraction: DecimalString | null, maintenance: DecimalString, marginBuffer: DecimalString | null,
 *   sessionPnl: DecimalString, state?: AccountMode }} RiskRecord
 */
/**
 * @typedef {{ t: number, kind: 'stopout', scope: StopoutScope, id: string, reason: string, closePositions: boolean,
 *   action: 'set' | 'reset', stoppedTill?: string }} StopoutRecord
 */
/** @typedef {{ t: number, kind: 'liquidation', account: string, symbol: string, price?: DecimalString }} LiquidationRecord */
/**
 * @typedef {{ t: number, kind: 'operator', action: string, scope: StopoutScope, id: string, result: 'ok' | 'refused', reason?: string,
 *   by?: string }} OperatorRecord
 */
/** @typedef {{ t: number, kind: 'summary' }} SummaryRecord */
/**
 * @typedef {MarkRecord | StateRecord | DecisionRecord | OrderRecord | CancelRecord | OrderUpdateRecord | RiskRecord | StopoutRecord
 *   | LiquidationRecord | OperatorRecord | SummaryRecord} TimelineRecord
 */

export {};
