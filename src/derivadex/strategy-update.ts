import { z } from 'zod';
import { POSITION_SIDE, STRATEGY_UPDATE_REASON, WITHDRAW_REJECTION, codesOf } from './codes.ts';
import { datetime, decimal, ethAddress, nonNegativeDecimal, strategyIdHash, text, traderAddress, wholeNumber } from './wire-values.ts';

/*
 * STRATEGY_UPDATE rows: every change to a strategy's collateral (deposit, withdrawal, funding, realized
 * PnL, fees, liquidation, ADL). Sources: the SDK's realtime `StrategyUpdate` and REST `StrategyUpdate`
 * (ddx `rest_client/models/market.py`) and the get-strategy-update-history page (docs/derivadex-sources.md
 * §3.2, §5.7). `amount` is the change; `newAvailCollateral` / `newLockedCollateral` are the balances after.
 */

const strategyUpdateFields = {
  globalOrdinal: wholeNumber,
  epochId: wholeNumber,
  /** With reason 9. */
  withdrawRejection: z.literal(codesOf(WITHDRAW_REJECTION)).optional(),
  reason: z.literal(codesOf(STRATEGY_UPDATE_REASON)),
  traderAddress,
  strategyIdHash,
  collateralAddress: ethAddress,
  collateralSymbol: text,
  /** The signed change (the realtime model: "may be negative"). */
  amount: decimal.optional(),
  newAvailCollateral: nonNegativeDecimal.optional(),
  newLockedCollateral: nonNegativeDecimal.optional(),
  blockNumber: wholeNumber.optional(),
  createdAt: datetime,
};

/** A position after a PnL realization, liquidation or ADL (realtime `Position`, every field required). */
export const strategyPositionSchema = z.object({
  symbol: text,
  balance: nonNegativeDecimal,
  side: z.literal(codesOf(POSITION_SIDE)),
  avgEntryPrice: nonNegativeDecimal,
  realizedPnl: decimal,
});

export type StrategyPositionRow = z.output<typeof strategyPositionSchema>;

function checkReason(row: { reason: number; withdrawRejection?: number | undefined }, ctx: z.RefinementCtx): void {
  if (row.reason === STRATEGY_UPDATE_REASON.WithdrawRejection && row.withdrawRejection === undefined) {
    ctx.addIssue({ code: 'custom', path: ['withdrawRejection'], message: 'required with reason 9 (WithdrawRejection)' });
  }
}

/** A realtime STRATEGY_UPDATE row. */
export const strategyUpdateRowSchema = z
  .object({ ...strategyUpdateFields, positions: z.array(strategyPositionSchema).nullable().optional() })
  .superRefine(checkReason);

export type StrategyUpdateRow = z.output<typeof strategyUpdateRowSchema>;

/** A REST history position: no `balance` (SDK `StrategyPositionUpdate`). */
export const strategyPositionHistorySchema = z.object({
  symbol: text,
  side: z.literal(codesOf(POSITION_SIDE)).optional(),
  avgEntryPrice: nonNegativeDecimal.optional(),
  realizedPnl: decimal,
});

/** A REST STRATEGY_UPDATE history row (`value[i]` of `/exchange/api/v1/strategy_updates`). */
export const strategyUpdateHistoryRowSchema = z
  .object({
    ...strategyUpdateFields,
    txOrdinal: wholeNumber,
    ordinal: wholeNumber,
    /** On the docs page, not in the SDK model (the docs are newer). */
    txHash: z.string().optional(),
    positions: z.array(strategyPositionHistorySchema).nullable().optional(),
  })
  .superRefine(checkReason);

export type StrategyUpdateHistoryRow = z.output<typeof strategyUpdateHistoryRowSchema>;
