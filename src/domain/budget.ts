import type { DecimalString } from './decimal.ts';

/** The explicit risk budget of one strategy. Every field is optional: an absent rule never binds. */
export interface Budget {
  /** Absolute position size cap per symbol. */
  maxPositionSize?: Record<string, DecimalString>;
  /** Cap on Σ |size| × mark over all symbols. */
  maxGrossNotional?: DecimalString;
  /** Minimum margin buffer (margin fraction − maintenance requirement) to keep; below it: de-risk. */
  minMarginBuffer?: DecimalString;
  /** Below this margin buffer: panic exit. Must be below minMarginBuffer. */
  panicMarginBuffer?: DecimalString;
  /** Loss since session start (a positive amount) at which new entries stop. */
  sessionLossLimit?: DecimalString;
}
