import { Decimal, dec, isDecimalString, str, ZERO, type DecimalString } from './decimal.ts';
import type { Side } from './order.ts';

/*
 * A strategy's ledger, fed by venue events. Every event carries a unique `id` and a `seq` (an ordering
 * key from the venue such as globalOrdinal: monotonic, not necessarily contiguous). Events may arrive
 * late; the ledger keeps the last applied events as a journal over a checkpoint of the state before them,
 * so a late event inside that window is inserted in seq order and replayed. The state is therefore a
 * function of the SET of accepted events, whatever order they arrived in.
 */

interface EventBase {
  id: string;
  /** Ordering key from the venue; a safe integer >= 0. */
  seq: number;
}

/** A trade of ours. `fee`: positive = paid, negative = rebate. */
export interface FillEvent extends EventBase {
  kind: 'fill';
  symbol: string;
  side: Side;
  amount: DecimalString;
  price: DecimalString;
  fee?: DecimalString;
}
/** A fee outside a fill: positive = paid, negative = rebate. */
export interface FeeEvent extends EventBase {
  kind: 'fee';
  amount: DecimalString;
}
/** A funding payment, signed: positive = received. */
export interface FundingEvent extends EventBase {
  kind: 'funding';
  amount: DecimalString;
}
export interface DepositEvent extends EventBase {
  kind: 'deposit';
  amount: DecimalString;
}
export interface WithdrawalEvent extends EventBase {
  kind: 'withdrawal';
  amount: DecimalString;
}
/** The venue closed our whole position in `symbol` at `price`. */
export interface LiquidationEvent extends EventBase {
  kind: 'liquidation';
  symbol: string;
  price: DecimalString;
}

export type LedgerEvent = FillEvent | FeeEvent | FundingEvent | DepositEvent | WithdrawalEvent | LiquidationEvent;

export interface LedgerPosition {
  /** Signed: positive long, negative short. Never "0" (flat symbols are removed). */
  size: DecimalString;
  /** Volume-weighted entry price of the open size (see AVG_ENTRY_DECIMALS). */
  avgEntry: DecimalString;
}

/** The balances and positions: what risk metrics need. */
export interface LedgerBook {
  collateral: DecimalString;
  realizedPnl: DecimalString;
  feesPaid: DecimalString;
  fundingReceived: DecimalString;
  /** Deposits − withdrawals. */
  netTransfers: DecimalString;
  /** Keys sorted; flat symbols absent. */
  positions: Record<string, LedgerPosition>;
}

export interface LedgerCheckpoint extends LedgerBook {
  /** seq of the last event folded into this checkpoint; -1 when none. */
  lastSeq: number;
}

export interface LedgerWindow {
  /** Applied events kept for replay: a late event may be at most this far back. */
  journal: number;
  /** Event ids remembered for duplicate detection (journal ids included); >= journal. */
  ids: number;
}

/** JSON-serialisable; never mutated (every change returns a new object). */
export interface LedgerState extends LedgerBook {
  initialCollateral: DecimalString;
  /** Highest seq applied; -1 before the first event. */
  lastSeq: number;
  /** The book before the journal's events. */
  checkpoint: LedgerCheckpoint;
  /** The last applied events, in seq order (canonical copies). */
  journal: LedgerEvent[];
  /** Ids of the most recent events folded into the checkpoint, in seq order. */
  checkpointIds: string[];
  window: LedgerWindow;
}

export type LedgerOutcome = 'applied' | 'reordered' | 'duplicate' | 'rejected';

export interface LedgerResult {
  state: LedgerState;
  outcome: LedgerOutcome;
  /** For 'rejected' (and 'duplicate'): why. */
  reason?: string;
}

/** Bad arguments to createLedger (events never throw: they are rejected). */
export class LedgerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LedgerError';
  }
}

export const DEFAULT_LEDGER_WINDOW: Readonly<LedgerWindow> = Object.freeze({ journal: 256, ids: 4096 });

/**
 * The average entry price is the one inexact value (a weighted mean need not be a finite decimal).
 * It is rounded half-even to this many decimals so that every later product and sum stays well inside
 * the 40 significant digits of Decimal, keeping collateral = initial + realized − fees + funding +
 * transfers exact.
 */
export const AVG_ENTRY_DECIMALS = 12;

export function createLedger(initialCollateral: DecimalString, window: Partial<LedgerWindow> = {}): LedgerState {
  if (!isDecimalString(initialCollateral)) {
    throw new LedgerError(`initialCollateral: expected a decimal string, got ${JSON.stringify(initialCollateral)}`);
  }
  const w: LedgerWindow = { ...DEFAULT_LEDGER_WINDOW, ...window };
  if (!Number.isSafeInteger(w.journal) || w.journal < 1) {
    throw new LedgerError(`window.journal: expected an integer >= 1, got ${w.journal}`);
  }
  if (!Number.isSafeInteger(w.ids) || w.ids < w.journal) {
    throw new LedgerError(`window.ids: expected an integer >= window.journal (${w.journal}), got ${w.ids}`);
  }
  const book: LedgerBook = {
    collateral: str(initialCollateral),
    realizedPnl: '0',
    feesPaid: '0',
    fundingReceived: '0',
    netTransfers: '0',
    positions: {},
  };
  return {
    ...book,
    initialCollateral: str(initialCollateral),
    lastSeq: -1,
    checkpoint: { ...book, lastSeq: -1 },
    journal: [],
    checkpointIds: [],
    window: w,
  };
}

/** Signed position size in `symbol` (zero when flat). */
export function positionSize(state: LedgerBook, symbol: string): Decimal {
  const p = state.positions[symbol];
  return p === undefined ? ZERO : dec(p.size);
}

/**
 * Applies one venue event. Never throws: a malformed event, one older than the replay window, or one
 * whose seq is taken by another event is 'rejected' with a reason and the state is returned unchanged.
 */
export function applyLedgerEvent(state: LedgerState, event: LedgerEvent): LedgerResult {
  const parsed = parseEvent(event);
  if (typeof parsed === 'string') return { state, outcome: 'rejected', reason: `malformed: ${parsed}` };

  if (state.checkpointIds.includes(parsed.id) || state.journal.some((e) => e.id === parsed.id)) {
    return { state, outcome: 'duplicate', reason: `event ${JSON.stringify(parsed.id)} was already applied` };
  }
  const windowStart = state.checkpoint.lastSeq + 1;
  if (parsed.seq < windowStart) {
    return {
      state,
      outcome: 'rejected',
      reason: `too-old: seq ${parsed.seq} precedes the replay window starting at ${windowStart}`,
    };
  }
  const clash = state.journal.find((e) => e.seq === parsed.seq);
  if (clash !== undefined) {
    return {
      state,
      outcome: 'rejected',
      reason: `conflicting-seq: seq ${parsed.seq} was already applied as event ${JSON.stringify(clash.id)}, not ${JSON.stringify(parsed.id)}`,
    };
  }

  if (parsed.seq > state.lastSeq) {
    const book = applyToBook(state, parsed);
    return { state: settle(state, book, [...state.journal, parsed]), outcome: 'applied' };
  }

  // Late but inside the window: insert in seq order and replay from the checkpoint.
  const at = state.journal.findIndex((e) => e.seq > parsed.seq);
  const journal = [...state.journal.slice(0, at), parsed, ...state.journal.slice(at)];
  let book: LedgerBook = state.checkpoint;
  for (const e of journal) book = applyToBook(book, e);
  return { state: settle(state, book, journal), outcome: 'reordered' };
}

/**
 * The book as if this fill had happened (no fee, no seq/journal bookkeeping): for projections such as
 * the pre-trade gate's "what if this order filled". Throws LedgerError for a malformed fill.
 */
export function projectFill(
  book: LedgerBook,
  fill: { symbol: string; side: Side; amount: DecimalString; price: DecimalString },
): LedgerBook {
  const parsed = parseEvent({
    kind: 'fill',
    id: 'projection',
    seq: 0,
    symbol: fill.symbol,
    side: fill.side,
    amount: fill.amount,
    price: fill.price,
  });
  if (typeof parsed === 'string') throw new LedgerError(`projected ${parsed}`);
  return applyToBook(book, parsed);
}

/** New state with `book` current and `journal` (seq-ordered) trimmed to the window, folding the excess into the checkpoint. */
function settle(state: LedgerState, book: LedgerBook, journal: LedgerEvent[]): LedgerState {
  let checkpoint = state.checkpoint;
  let checkpointIds = state.checkpointIds;
  const excess = journal.length - state.window.journal;
  if (excess > 0) {
    const folded = journal.slice(0, excess);
    journal = journal.slice(excess);
    let cp: LedgerBook = checkpoint;
    for (const e of folded) cp = applyToBook(cp, e);
    checkpoint = { ...bookOf(cp), lastSeq: folded[folded.length - 1]!.seq };
    const keep = state.window.ids - state.window.journal;
    checkpointIds = [...checkpointIds, ...folded.map((e) => e.id)];
    if (checkpointIds.length > keep) checkpointIds = checkpointIds.slice(checkpointIds.length - keep);
  }
  return {
    ...bookOf(book),
    initialCollateral: state.initialCollateral,
    lastSeq: journal[journal.length - 1]!.seq,
    checkpoint,
    journal,
    checkpointIds,
    window: state.window,
  };
}

function bookOf(b: LedgerBook): LedgerBook {
  return {
    collateral: b.collateral,
    realizedPnl: b.realizedPnl,
    feesPaid: b.feesPaid,
    fundingReceived: b.fundingReceived,
    netTransfers: b.netTransfers,
    positions: b.positions,
  };
}

/** The pure accounting of one (validated, canonical) event. Total: never fails. */
function applyToBook(b: LedgerBook, e: LedgerEvent): LedgerBook {
  switch (e.kind) {
    case 'fill': {
      const { positions, realized } = trade(b.positions, e.symbol, e.side === 'buy' ? dec(e.amount) : dec(e.amount).neg(), dec(e.price));
      const fee = dec(e.fee ?? '0');
      return {
        ...b,
        collateral: str(dec(b.collateral).plus(realized).minus(fee)),
        realizedPnl: str(dec(b.realizedPnl).plus(realized)),
        feesPaid: str(dec(b.feesPaid).plus(fee)),
        positions,
      };
    }
    case 'liquidation': {
      const held = b.positions[e.symbol];
      if (held === undefined) return b; // nothing to close (a later-arriving earlier fill will replay before it)
      const realized = dec(e.price).minus(held.avgEntry).times(held.size);
      const positions = { ...b.positions };
      delete positions[e.symbol];
      return {
        ...b,
        collateral: str(dec(b.collateral).plus(realized)),
        realizedPnl: str(dec(b.realizedPnl).plus(realized)),
        positions,
      };
    }
    case 'fee':
      return { ...b, collateral: str(dec(b.collateral).minus(e.amount)), feesPaid: str(dec(b.feesPaid).plus(e.amount)) };
    case 'funding':
      return { ...b, collateral: str(dec(b.collateral).plus(e.amount)), fundingReceived: str(dec(b.fundingReceived).plus(e.amount)) };
    case 'deposit':
      return { ...b, collateral: str(dec(b.collateral).plus(e.amount)), netTransfers: str(dec(b.netTransfers).plus(e.amount)) };
    case 'withdrawal':
      return { ...b, collateral: str(dec(b.collateral).minus(e.amount)), netTransfers: str(dec(b.netTransfers).minus(e.amount)) };
  }
}

/**
 * Position change by `delta` (signed) at `price`. Adding: weighted average entry. Reducing: entry kept,
 * realize (price − entry) × closed × direction. Through zero: realize the closed part, the rest opens at price.
 */
function trade(
  positions: Record<string, LedgerPosition>,
  symbol: string,
  delta: Decimal,
  price: Decimal,
): { positions: Record<string, LedgerPosition>; realized: Decimal } {
  const held = positions[symbol];
  const size = held === undefined ? ZERO : dec(held.size);
  let next: LedgerPosition | undefined;
  let realized = ZERO;
  if (size.isZero()) {
    next = { size: str(delta), avgEntry: str(price) };
  } else if (size.isNeg() === delta.isNeg()) {
    const entry = dec(held!.avgEntry);
    const total = size.abs().plus(delta.abs());
    const avg = size.abs().times(entry).plus(delta.abs().times(price)).div(total);
    next = { size: str(size.plus(delta)), avgEntry: str(avg.toDecimalPlaces(AVG_ENTRY_DECIMALS, Decimal.ROUND_HALF_EVEN)) };
  } else {
    const entry = dec(held!.avgEntry);
    const closed = Decimal.min(size.abs(), delta.abs());
    realized = price
      .minus(entry)
      .times(closed)
      .times(size.isNeg() ? -1 : 1);
    const after = size.plus(delta);
    if (after.isZero()) next = undefined;
    else if (after.isNeg() === size.isNeg()) next = { size: str(after), avgEntry: held!.avgEntry };
    else next = { size: str(after), avgEntry: str(price) };
  }
  const rest: Record<string, LedgerPosition> = {};
  for (const [k, v] of Object.entries(positions)) if (k !== symbol) rest[k] = v;
  if (next !== undefined) rest[symbol] = next;
  return { positions: sortKeys(rest), realized };
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(record).sort()) out[k] = record[k]!;
  return out;
}

const KINDS = ['fill', 'fee', 'funding', 'deposit', 'withdrawal', 'liquidation'] as const;

/**
 * Validates an event from outside and returns a canonical copy (decimals through str(), no extra
 * fields), or the problem as a string naming the field.
 */
function parseEvent(raw: unknown): LedgerEvent | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return `event: expected an object, got ${describe(raw)}`;
  const o = raw as Record<string, unknown>;
  const kind = o.kind;
  if (typeof kind !== 'string' || !(KINDS as readonly string[]).includes(kind)) {
    return `kind: expected one of ${KINDS.join(', ')}, got ${describe(kind)}`;
  }
  const id = o.id;
  if (typeof id !== 'string' || id.length === 0) return `${kind}.id: expected a non-empty string, got ${describe(id)}`;
  const seq = o.seq;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
    return `${kind}.seq: expected an integer >= 0, got ${describe(seq)}`;
  }
  const decimal = (name: string, sign: 'any' | 'non-negative' | 'positive'): string | { value: DecimalString } => {
    const v = o[name];
    if (!isDecimalString(v)) return `${kind}.${name}: expected a decimal string, got ${describe(v)}`;
    const d = dec(v);
    if (sign === 'positive' && !d.gt(0)) return `${kind}.${name}: must be > 0, got ${JSON.stringify(v)}`;
    if (sign === 'non-negative' && d.isNeg() && !d.isZero()) return `${kind}.${name}: must be >= 0, got ${JSON.stringify(v)}`;
    return { value: str(d) };
  };
  const symbolOf = (): string | { value: string } => {
    const s = o.symbol;
    return typeof s === 'string' && s.length > 0 ? { value: s } : `${kind}.symbol: expected a non-empty string, got ${describe(s)}`;
  };

  switch (kind) {
    case 'fill': {
      const symbol = symbolOf();
      if (typeof symbol === 'string') return symbol;
      const side = o.side;
      if (side !== 'buy' && side !== 'sell') return `fill.side: expected "buy" or "sell", got ${describe(side)}`;
      const amount = decimal('amount', 'positive');
      if (typeof amount === 'string') return amount;
      const price = decimal('price', 'positive');
      if (typeof price === 'string') return price;
      const event: FillEvent = { kind, id, seq, symbol: symbol.value, side, amount: amount.value, price: price.value };
      if (o.fee !== undefined) {
        const fee = decimal('fee', 'any');
        if (typeof fee === 'string') return fee;
        event.fee = fee.value;
      }
      return event;
    }
    case 'liquidation': {
      const symbol = symbolOf();
      if (typeof symbol === 'string') return symbol;
      const price = decimal('price', 'positive');
      if (typeof price === 'string') return price;
      return { kind, id, seq, symbol: symbol.value, price: price.value };
    }
    case 'fee':
    case 'funding': {
      const amount = decimal('amount', 'any');
      if (typeof amount === 'string') return amount;
      return { kind, id, seq, amount: amount.value };
    }
    case 'deposit':
    case 'withdrawal': {
      const amount = decimal('amount', 'non-negative');
      if (typeof amount === 'string') return amount;
      return { kind, id, seq, amount: amount.value };
    }
    default:
      return `kind: unsupported ${describe(kind)}`;
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
