import { ACCOUNT_MODES } from '../src/domain/assessment.ts';
import { isDecimalString } from '../src/domain/decimal.ts';
import { ORDER_PURPOSES } from '../src/domain/order.ts';
import { ORDER_STATUSES } from '../src/domain/order-status.ts';
import { RISK_LIMIT_LEVELS, type RiskLimit } from '../src/domain/risk-limit.ts';
import { validateRiskLimit } from '../src/domain/risk-limits.ts';
import { STOPOUT_SCOPES } from '../src/domain/stopout.ts';
import { describeValue } from './snapshot-state.ts';

/**
 * Adds the problems of `value` at `path` to `problems`; `valid` answers whether there are none, without
 * building a path or a message (the common case: a snapshot this machine wrote). Every combinator below
 * defines both from the same parts, so they agree.
 */
export interface Check {
  (value: unknown, path: string, problems: string[]): void;
  valid(value: unknown): boolean;
}

function check(problemsOf: (value: unknown, path: string, problems: string[]) => void, valid: (value: unknown) => boolean): Check {
  return Object.assign(problemsOf, { valid });
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const is = (what: string, test: (value: unknown) => boolean): Check =>
  check((value, path, problems) => {
    if (!test(value)) problems.push(`${path}: expected ${what}, got ${describeValue(value)}`);
  }, test);

const decimal = is('a decimal string', isDecimalString);
const text = is('a string', (v) => typeof v === 'string');
const flag = is('a boolean', (v) => typeof v === 'boolean');
const count = is('a whole number', (v) => Number.isSafeInteger(v));
/** The last millisecond of year 9999: later times cannot be written as ISO 8601 (and nothing sane is later). */
const LATEST_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const time = is('epoch milliseconds (0 to the end of year 9999)', (v) => typeof v === 'number' && v >= 0 && v <= LATEST_TIME);
const positive = is('a positive number', (v) => typeof v === 'number' && Number.isFinite(v) && v > 0);
const anyObject = is('an object', isRecord);
const oneOf = (values: readonly string[]): Check =>
  is(`one of ${values.map((v) => JSON.stringify(v)).join(', ')}`, (v) => typeof v === 'string' && values.includes(v));

const nullable = (inner: Check): Check =>
  check(
    (value, path, problems) => {
      if (value !== null) inner(value, path, problems);
    },
    (value) => value === null || inner.valid(value),
  );

const optional = (inner: Check): Check =>
  check(
    (value, path, problems) => {
      if (value !== undefined) inner(value, path, problems);
    },
    (value) => value === undefined || inner.valid(value),
  );

const arrayOf = (item: Check): Check =>
  check(
    (value, path, problems) => {
      if (!Array.isArray(value)) problems.push(`${path}: expected an array, got ${describeValue(value)}`);
      else value.forEach((v, i) => item(v, `${path}[${i}]`, problems));
    },
    // `every` skips holes as `forEach` does above.
    (value) => Array.isArray(value) && value.every((v) => item.valid(v)),
  );

const recordOf = (item: Check): Check =>
  check(
    (value, path, problems) => {
      if (!isRecord(value)) problems.push(`${path}: expected an object, got ${describeValue(value)}`);
      else for (const [key, v] of Object.entries(value)) item(v, `${path}[${JSON.stringify(key)}]`, problems);
    },
    (value) => {
      if (!isRecord(value)) return false;
      for (const key of Object.keys(value)) if (!item.valid(value[key])) return false;
      return true;
    },
  );

/** An object with these fields (others are left alone: they are the machine's to ignore). */
const shape = (fields: Record<string, Check>): Check => {
  const entries = Object.entries(fields);
  return check(
    (value, path, problems) => {
      if (!isRecord(value)) {
        problems.push(`${path}: expected an object, got ${describeValue(value)}`);
        return;
      }
      for (const [key, field] of entries) field(value[key], `${path}.${key}`, problems);
    },
    (value) => {
      if (!isRecord(value)) return false;
      for (const [key, field] of entries) if (!field.valid(value[key])) return false;
      return true;
    },
  );
};

/** One of several shapes, chosen by the value's `kind`. */
const byKind = (kinds: Record<string, Check>): Check => {
  const chosen = (value: unknown): Check | undefined => {
    const kind = isRecord(value) ? value.kind : undefined;
    return typeof kind === 'string' && Object.hasOwn(kinds, kind) ? kinds[kind] : undefined;
  };
  return check(
    (value, path, problems) => {
      const inner = chosen(value);
      if (inner) inner(value, path, problems);
      else
        problems.push(
          `${path}.kind: expected one of ${Object.keys(kinds)
            .map((k) => JSON.stringify(k))
            .join(', ')}, got ${describeValue(isRecord(value) ? value.kind : undefined)}`,
        );
    },
    (value) => chosen(value)?.valid(value) ?? false,
  );
};

const limitFields = shape({ level: oneOf(RISK_LIMIT_LEVELS), sourceId: text });
const riskLimit: Check = check(
  (value, path, problems) => {
    if (!isRecord(value)) {
      problems.push(`${path}: expected an object, got ${describeValue(value)}`);
      return;
    }
    problems.push(...validateRiskLimit(value as unknown as RiskLimit, path));
    limitFields(value, path, problems);
  },
  (value) => isRecord(value) && validateRiskLimit(value as unknown as RiskLimit, '').length === 0 && limitFields.valid(value),
);

const observation = shape({ at: time, balance: decimal, equity: decimal, netTransfers: decimal });

const eventBase = { id: text, seq: count };
const ledgerEvent = byKind({
  fill: shape({ ...eventBase, symbol: text, side: oneOf(['buy', 'sell']), amount: decimal, price: decimal, fee: optional(decimal) }),
  fee: shape({ ...eventBase, amount: decimal }),
  funding: shape({ ...eventBase, amount: decimal }),
  deposit: shape({ ...eventBase, amount: decimal }),
  withdrawal: shape({ ...eventBase, amount: decimal }),
  liquidation: shape({ ...eventBase, symbol: text, price: decimal }),
});

const book = {
  collateral: decimal,
  realizedPnl: decimal,
  feesPaid: decimal,
  fundingReceived: decimal,
  netTransfers: decimal,
  positions: recordOf(shape({ size: decimal, avgEntry: decimal })),
};

const intent = shape({
  symbol: text,
  side: oneOf(['buy', 'sell']),
  amount: decimal,
  type: oneOf(['market', 'limit']),
  price: optional(decimal),
});

const stopout = shape({
  scope: oneOf(STOPOUT_SCOPES),
  id: text,
  reason: text,
  closePositions: flag,
  stoppedAt: optional(text),
  stoppedTill: optional(text),
  sequence: optional(count),
  by: optional(text),
});

const reason = shape({ rule: text, message: text, numbers: recordOf(text) });

/**
 * The account context's fields that the machine's guards and actions read, down to the values money
 * arithmetic and order handling use (decimal strings, statuses, ids, times). What only reports read (the
 * last gate decision and refusal, the outbox the next step overwrites) is checked for its kind only.
 */
export const accountContextShape = shape({
  settings: shape({
    accountId: text,
    budget: shape({
      maxPositionSize: optional(recordOf(decimal)),
      maxGrossNotional: optional(decimal),
      minMarginBuffer: optional(decimal),
      panicMarginBuffer: optional(decimal),
      sessionLossLimit: optional(decimal),
    }),
    products: recordOf(
      shape({
        symbol: text,
        tickSize: decimal,
        minOrderSize: decimal,
        maxOrderNotional: decimal,
        maxTakerPriceDeviation: decimal,
        maxLeverage: positive,
        mmr: decimal,
      }),
    ),
    riskLimits: arrayOf(riskLimit),
    hysteresis: decimal,
    reductionFraction: decimal,
    reductionTimeoutMs: time,
  }),
  now: time,
  ledger: shape({
    ...book,
    initialCollateral: decimal,
    lastSeq: count,
    checkpoint: shape({ ...book, lastSeq: count }),
    journal: arrayOf(ledgerEvent),
    checkpointIds: arrayOf(text),
    window: shape({ journal: count, ids: count }),
  }),
  marks: recordOf(decimal),
  sessionStart: nullable(shape({ equity: decimal, netTransfers: decimal })),
  drawdown: shape({
    first: nullable(observation),
    latest: nullable(observation),
    dayOpens: arrayOf(observation),
    anchors: recordOf(nullable(observation)),
  }),
  metrics: nullable(
    shape({
      positions: recordOf(
        shape({
          symbol: text,
          size: decimal,
          direction: oneOf(['long', 'short', 'flat']),
          avgEntry: decimal,
          mark: decimal,
          notional: decimal,
          unrealizedPnl: decimal,
        }),
      ),
      grossNotional: decimal,
      collateral: decimal,
      unrealizedPnl: decimal,
      equity: decimal,
      marginFraction: nullable(decimal),
      maintenance: decimal,
      maintenanceMargin: decimal,
      marginBuffer: nullable(decimal),
      sessionPnl: decimal,
      liquidatable: flag,
    }),
  ),
  stopouts: arrayOf(stopout),
  feedStale: flag,
  orders: recordOf(
    shape({
      clientOrderId: text,
      intent,
      purpose: oneOf(ORDER_PURPOSES),
      status: oneOf(ORDER_STATUSES),
      filled: decimal,
      sentAt: time,
      cancelSentAt: optional(time),
    }),
  ),
  reduction: nullable(text),
  orderSeq: count,
  mode: oneOf(ACCOUNT_MODES),
  assessment: shape({ mode: oneOf(ACCOUNT_MODES), reason, flatten: flag }),
  reason,
  lastDecision: nullable(anyObject),
  lastRefusal: nullable(anyObject),
  outbox: shape({ placed: nullable(anyObject), cancels: arrayOf(anyObject), raised: arrayOf(stopout), reset: nullable(anyObject) }),
});

/**
 * Why `value` (an account context read back from a persisted snapshot) cannot be what the account machine
 * runs on, each problem with its path (`snapshot.context.orderSeq: expected a whole number, got string
 * "7"`); empty when it can. An order the context waits for must be one of its orders.
 */
export function accountContextProblems(value: unknown, where: string): string[] {
  const problems: string[] = [];
  if (!accountContextShape.valid(value)) accountContextShape(value, where, problems);
  if (problems.length === 0 && isRecord(value)) {
    const { reduction, orders } = value as { reduction: string | null; orders: Record<string, unknown> };
    if (reduction !== null && !Object.hasOwn(orders, reduction))
      problems.push(`${where}.reduction: ${JSON.stringify(reduction)} is not one of the context's orders`);
    for (const [id, order] of Object.entries(orders)) {
      if ((order as { clientOrderId: string }).clientOrderId !== id)
        problems.push(`${where}.orders[${JSON.stringify(id)}].clientOrderId: expected ${JSON.stringify(id)} (its key)`);
    }
  }
  return problems;
}
