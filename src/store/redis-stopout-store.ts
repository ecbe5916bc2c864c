import { randomBytes } from 'node:crypto';
import { type Clock, wallClock } from '../clock/clock.ts';
import { parseIsoTime, toIso } from '../domain/periods.ts';
import type { Stopout, StopoutScope } from '../domain/stopout.ts';
import {
  createRedisConnection,
  describeRedisTarget,
  duplicateForSubscriber,
  type RedisConnection,
  type RedisTarget,
} from '../redis/connection.ts';
import { LuaScript } from '../redis/lua-script.ts';
import { scanKeys } from '../redis/scan-keys.ts';
import { ChangeListeners } from './change-listeners.ts';
import { DEFAULT_REDIS_PREFIX, RedisKeyLayout, type ParsedScopeKey } from './redis-key-layout.ts';
import { decideSet } from './set-decision.ts';
import { compareIdentities, isStopoutScope } from '../domain/stopout-identity.ts';
import type { StopoutBreach, StopoutStartTime, StopoutStore, StoreChange, StoredStopout, StoreProblem } from './stopout-store.ts';
import { decodeStopoutValue, encodeStopoutValue } from './stopout-value.ts';
import { StoreHealth } from './store-health.ts';
import { assertBreachInput, assertResetInput, assertStartTimeInput, assertStopoutInput } from './store-input.ts';
import { StoreMirror } from './store-mirror.ts';
import { StoreUnavailableError } from './store-unavailable-error.ts';

export interface RedisStopoutStoreOptions extends RedisTarget {
  /** Key prefix (default "riskwarden"). */
  prefix?: string;
  /** Full re-read of the keys this often (default 1000 ms); pub/sub is only the fast path. */
  reconcileEveryMs?: number;
  /** A lost connection is reported (a `health` change) after this long (default 2000 ms). */
  failClosedAfterMs?: number;
  /** stoppedAt defaults and problem times (default: the wall clock). */
  clock?: Clock;
  /** Longest wait between reconnection attempts (default 500 ms). */
  retryDelayMs?: number;
  /** A command unanswered this long fails (default: failClosedAfterMs, at least 1000 ms). */
  commandTimeoutMs?: number;
  /** createRedisStopoutStore waits this long for the first connection and read (default 5000 ms). */
  connectTimeoutMs?: number;
  /** false: return at once, unhealthy until connected (a supervisor fails closed meanwhile). Default true. */
  requireConnection?: boolean;
  /** Every problem as it is found (also kept by `problems()`). */
  onProblem?: (problem: StoreProblem) => void;
  /**
   * A supervisor's store (default false; a CLI must not, it exits before the store returns): while Redis is
   * unreachable `set` applies the stopout here at once (watchers see it) and writes it when Redis is back,
   * instead of refusing. Resets and start-time moves are still refused while unreachable (fail closed).
   */
  holdWritesWhileUnreachable?: boolean;
}

const MAX_KEPT_PROBLEMS = 100;
const SET_ATTEMPTS = 5;
const NOT_A_HASH = '(not a hash)';

/**
 * Sets a hash field only if it still holds what the caller read (compare-and-set on one key, so it runs on
 * a Cluster too). ARGV: field, "0" (expect absent) or "1" (expect ARGV[3]), expected, new value.
 */
const CAS_FIELD = new LuaScript(`
local current = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[2] == '0' then
  if current then return 0 end
elseif current ~= ARGV[3] then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
return 1
`);

/**
 * The next stopout sequence, repaired when the counter is not one: a value INCR refuses (not an integer, not
 * a string at all) or one below the highest sequence this process knows (ARGV[1]) is re-seeded at that
 * highest known sequence first, so a corrupt counter can never disable setting a stopout (the kill switch).
 * → {sequence, 0} or {sequence, 1, what the counter held}.
 */
const NEXT_SEQUENCE = new LuaScript(`
local kind = redis.call('TYPE', KEYS[1])['ok']
local floor = tonumber(ARGV[1])
if kind == 'none' then
  if floor > 0 then redis.call('SET', KEYS[1], ARGV[1]) end
  return {redis.call('INCR', KEYS[1]), 0}
end
local old = '(a ' .. kind .. ')'
if kind == 'string' then
  old = redis.call('GET', KEYS[1])
  if string.len(old) <= 15 and string.match(old, '^%d+$') and tonumber(old) >= floor then
    return {redis.call('INCR', KEYS[1]), 0}
  end
end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1])
return {redis.call('INCR', KEYS[1]), 1, old}
`);

/** Opens the Redis stopout store; see RedisStopoutStore. */
export function createRedisStopoutStore(options: RedisStopoutStoreOptions): Promise<RedisStopoutStore> {
  return RedisStopoutStore.open(options);
}

/**
 * The shared stopout store on Redis (docs/contracts.md#redis, docs/redis.md): a plain server, a Sentinel group or a
 * Cluster. It keeps a mirror of every stopout and start time, updated by its own writes, by pub/sub
 * events (one key re-read at once) and by a full reconciliation every `reconcileEveryMs`; `watch` hears
 * every difference. Values that are not the contract's shape still count (fail closed) and are reported.
 */
export class RedisStopoutStore implements StopoutStore {
  readonly kind = 'redis';
  readonly layout: RedisKeyLayout;
  /** The target, without a password (for messages). */
  readonly description: string;
  readonly #command: RedisConnection;
  readonly #subscriber: RedisConnection;
  readonly #clock: Clock;
  readonly #mirror = new StoreMirror();
  readonly #listeners = new ChangeListeners();
  readonly #health: StoreHealth;
  readonly #onProblem: ((problem: StoreProblem) => void) | undefined;
  readonly #problems: StoreProblem[] = [];
  readonly #reportedOnce = new Set<string>();
  #lastConnectionError: string | undefined;
  readonly #up = { command: false, subscriber: false };
  #subscribed = false;
  /** Bumped on every connection loss: a read that began before a loss does not restore health. */
  #epoch = 0;
  /** Per key, the token of the last applied read or write; a reply older than that is stale and dropped. */
  readonly #applied = new Map<string, number>();
  #nextToken = 0;
  #timer: NodeJS.Timeout | undefined;
  #periodicRunning = false;
  #closed = false;
  #healthyWaiters: Array<() => void> = [];
  readonly #holdWrites: boolean;
  /**
   * Stopouts this process holds that Redis does not have yet: set while it was unreachable, or re-asserted
   * after it came back empty. They count in the mirror (a read does not drop them) until written.
   */
  readonly #pending = new Map<string, StoredStopout>();
  readonly #pendingStartTimes = new Map<string, StopoutStartTime>();
  #flushing = false;
  /** The epoch marker last seen (undefined before the first read). */
  #epochMarker: string | undefined;
  #dataLosses = 0;
  #sequenceRepairs = 0;

  private constructor(options: RedisStopoutStoreOptions) {
    const targets = [options.url, options.sentinels, options.cluster].filter((t) => t !== undefined).length;
    if (targets !== 1) throw new RangeError('createRedisStopoutStore: give exactly one of url, sentinels (with sentinelName) or cluster');
    const failClosedAfterMs = options.failClosedAfterMs ?? 2_000;
    const reconcileEveryMs = options.reconcileEveryMs ?? 500;
    for (const [name, value] of [
      ['failClosedAfterMs', failClosedAfterMs],
      ['reconcileEveryMs', reconcileEveryMs],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < 1)
        throw new RangeError(`createRedisStopoutStore: ${name}: expected a positive integer, got ${value}`);
    }
    this.layout = new RedisKeyLayout(options.prefix ?? DEFAULT_REDIS_PREFIX);
    this.description = `${describeRedisTarget(options)}, prefix ${this.layout.prefix}`;
    this.#clock = options.clock ?? wallClock;
    this.#onProblem = options.onProblem;
    this.#holdWrites = options.holdWritesWhileUnreachable ?? false;
    this.#health = new StoreHealth({ failClosedAfterMs, report: (change) => this.#emitReporting([change]) });
    this.#command = createRedisConnection(options, {
      retryDelayMs: options.retryDelayMs ?? 500,
      commandTimeoutMs: options.commandTimeoutMs ?? Math.max(failClosedAfterMs, 1_000),
    });
    this.#subscriber = duplicateForSubscriber(this.#command);
    this.#watchConnection(this.#command, 'command');
    this.#watchConnection(this.#subscriber, 'subscriber');
    this.#subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.layout.events) this.#onEvent(message);
    });
    this.#timer = setInterval(() => this.#periodicReconcile(), reconcileEveryMs);
    this.#timer.unref();
  }

  static async open(options: RedisStopoutStoreOptions): Promise<RedisStopoutStore> {
    const store = new RedisStopoutStore(options);
    // Connection failures surface as 'error' events and health; connect() rejecting says nothing more.
    store.#command.connect().catch(() => {});
    store.#subscriber.connect().catch(() => {});
    if (options.requireConnection === false) return store;
    try {
      await store.whenHealthy(options.connectTimeoutMs ?? 5_000);
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  /** Resolves once connected, subscribed and fully read; rejects with StoreUnavailableError after `timeoutMs`. */
  whenHealthy(timeoutMs: number): Promise<void> {
    if (this.#health.healthy()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#healthyWaiters = this.#healthyWaiters.filter((w) => w !== done);
        const cause = this.#lastConnectionError ?? this.#health.reason() ?? 'no answer';
        reject(new StoreUnavailableError('connect', `${this.description} not ready within ${timeoutMs} ms: ${cause}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.#healthyWaiters.push(done);
    });
  }

  async list(): Promise<StoredStopout[]> {
    await this.#freshRead('list stopouts');
    return this.#mirror.list();
  }

  /** The stopouts as this process knows them now (no I/O); meaningful while healthy(). */
  snapshot(): StoredStopout[] {
    return this.#mirror.list();
  }

  /** The start times as this process knows them now (no I/O). */
  startTimeSnapshot(): StopoutStartTime[] {
    return this.#mirror.startTimes();
  }

  /** How often this store found its data lost (the epoch marker gone or changed); a counter for metrics. */
  dataLosses(): number {
    return this.#dataLosses;
  }

  /** How often the sequence counter was found corrupt and re-seeded; a counter for metrics. */
  sequenceRepairs(): number {
    return this.#sequenceRepairs;
  }

  /** Stopouts (and start times) held here that are not written to Redis yet. */
  pendingWrites(): number {
    return this.#pending.size + this.#pendingStartTimes.size;
  }

  /** The last problems found (at most 100), oldest first. */
  problems(): StoreProblem[] {
    return [...this.#problems];
  }

  async set(stopout: Stopout): Promise<StoredStopout> {
    assertStopoutInput(stopout);
    const operation = 'set a stopout';
    if (this.#holdWrites && !this.#closed && !this.#connected()) return this.#hold(stopout);
    this.#assertConnected(operation);
    try {
      return await this.#write(stopout);
    } catch (error) {
      const failure = this.#unavailableOr(operation, error);
      if (this.#holdWrites && !this.#closed && failure instanceof StoreUnavailableError) return this.#hold(stopout);
      throw failure;
    }
  }

  /** Applies a stopout here at once and keeps it to be written when Redis is back (holdWritesWhileUnreachable). */
  #hold(stopout: Stopout): StoredStopout {
    const { scope, id, reason } = stopout;
    const key = this.layout.stopout(scope, id);
    const known = this.#pending.get(pendingKey(key, reason)) ?? this.#mirror.get(scope, id, reason);
    const decision = decideSet(stopout, known, this.#clock.now());
    if (decision.kind === 'keep') return decision.stopout;
    // Sequence 0 until written: the counter lives in Redis.
    const stored = decision.stopout(0);
    this.#pending.set(pendingKey(key, reason), stored);
    this.#problem(
      `${key}[${reason}]`,
      'the store is unreachable: the stopout applies in this process now and is written when the store is back',
    );
    this.#applyOwn(key, this.#token(), () => this.#mirror.upsert(stored));
    return stored;
  }

  #connected(): boolean {
    return this.#command.status === 'ready' && this.#up.command;
  }

  /** The compare-and-set write of `set`; `keepSequence`: a re-asserted stopout keeps the sequence it had. */
  async #write(stopout: Stopout, keepSequence?: number): Promise<StoredStopout> {
    const { scope, id, reason } = stopout;
    const key = this.layout.stopout(scope, id);
    let sequence: number | undefined = keepSequence;
    for (let attempt = 0; attempt < SET_ATTEMPTS; attempt++) {
      const raw = await this.#command.hget(key, reason);
      const existing = raw === null ? undefined : decodeStopoutValue({ scope, id, reason }, raw);
      const decision = decideSet(stopout, existing, this.#clock.now());
      if (decision.kind === 'keep') return decision.stopout;
      sequence ??= await this.#nextSequence();
      const stored = decision.stopout(sequence);
      const token = this.#token();
      const written = await CAS_FIELD.run(this.#command, [key], [reason, raw === null ? '0' : '1', raw ?? '', encodeStopoutValue(stored)]);
      if (written === 1) {
        this.#applyOwn(key, token, () => this.#mirror.upsert(stored));
        await this.#publish({ type: 'stopout', scope, id });
        return stored;
      }
    }
    throw new Error(`set: ${key} [${reason}] changed under this write ${SET_ATTEMPTS} times in a row; try again`);
  }

  /** INCR of the sequence counter, re-seeded above the highest known sequence when it is corrupt (NEXT_SEQUENCE). */
  async #nextSequence(): Promise<number> {
    let floor = 0;
    for (const s of this.#mirror.list()) floor = Math.max(floor, s.sequence);
    for (const s of this.#pending.values()) floor = Math.max(floor, s.sequence);
    const reply = await NEXT_SEQUENCE.run(this.#command, [this.layout.sequence], [floor]);
    if (!Array.isArray(reply) || !Number.isSafeInteger(reply[0]) || (reply[0] as number) < 1) {
      throw new Error(`${this.layout.sequence}: the sequence script answered ${JSON.stringify(reply)}, expected [sequence, repaired]`);
    }
    if (reply[1] === 1) {
      this.#sequenceRepairs++;
      const held = typeof reply[2] === 'string' ? reply[2].slice(0, 40) : String(reply[2]);
      this.#problem(
        this.layout.sequence,
        `held ${JSON.stringify(held)}, not a sequence counter at or above the highest known sequence ${floor}; re-seeded at ${floor}, next ${reply[0]}`,
      );
    }
    return reply[0] as number;
  }

  async reset(scope: StopoutScope, id: string, reason: string): Promise<boolean> {
    assertResetInput(scope, id, reason);
    const operation = 'reset a stopout';
    this.#assertConnected(operation);
    const key = this.layout.stopout(scope, id);
    try {
      const token = this.#token();
      const removed = await this.#command.hdel(key, reason);
      // An explicit reset releases a stopout held here too (it must not be written back).
      const held = this.#pending.delete(pendingKey(key, reason));
      this.#applyOwn(key, token, () => this.#mirror.remove(scope, id, reason));
      await this.#publish({ type: 'stopout', scope, id });
      return removed > 0 || held;
    } catch (error) {
      throw this.#unavailableOr(operation, error);
    }
  }

  async recordBreach(breach: StopoutBreach, ttlMs: number): Promise<void> {
    assertBreachInput('recordBreach', breach, ttlMs);
    const operation = 'record a breach';
    this.#assertConnected(operation);
    const key = this.layout.breach(breach.scope, breach.id);
    try {
      const results = await this.#command
        .multi()
        .hset(key, breach.reason, JSON.stringify({ message: breach.message }))
        .pexpire(key, ttlMs)
        .exec();
      const failed = results?.find(([error]) => error !== null);
      if (results === null || failed !== undefined) throw failed?.[0] ?? new Error(`recordBreach: the transaction on ${key} was aborted`);
    } catch (error) {
      throw this.#unavailableOr(operation, error);
    }
  }

  async clearBreach(scope: StopoutScope, id: string, reason: string): Promise<void> {
    assertBreachInput('clearBreach', { scope, id, reason });
    const operation = 'clear a breach';
    this.#assertConnected(operation);
    try {
      await this.#command.hdel(this.layout.breach(scope, id), reason);
    } catch (error) {
      throw this.#unavailableOr(operation, error);
    }
  }

  async breaches(): Promise<StopoutBreach[]> {
    const operation = 'list breaches';
    this.#assertConnected(operation);
    try {
      const keys = await this.#scan(this.layout.breachPattern());
      const perKey = await Promise.all(
        keys.map(async (key) => {
          const parsed = this.#validScopeKey(key, this.layout.parseBreachKey(key));
          if (parsed === null) return [];
          const hash = await this.#command.hgetall(key);
          return Object.entries(hash).map(([reason, raw]) => ({ ...parsed, reason, message: breachMessage(raw) }));
        }),
      );
      return perKey.flat().sort(compareIdentities);
    } catch (error) {
      throw this.#unavailableOr(operation, error);
    }
  }

  async setStartTime(scope: StopoutScope, id: string, startTimeIso: string): Promise<void> {
    assertStartTimeInput(scope, id, startTimeIso);
    const operation = 'move a start time';
    this.#assertConnected(operation);
    const key = this.layout.startTime(scope, id);
    try {
      const token = this.#token();
      await this.#command.set(key, startTimeIso);
      this.#applyOwn(key, token, () => this.#mirror.setStartTime(scope, id, startTimeIso));
      await this.#publish({ type: 'start-time', scope, id });
    } catch (error) {
      throw this.#unavailableOr(operation, error);
    }
  }

  async startTimes(): Promise<StopoutStartTime[]> {
    await this.#freshRead('list start times');
    return this.#mirror.startTimes();
  }

  watch(listener: (change: StoreChange) => void): () => void {
    return this.#listeners.add(listener);
  }

  healthy(): boolean {
    return this.#health.healthy();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#health.close();
    await Promise.all(
      [this.#subscriber, this.#command].map(async (connection) => {
        if (connection.status !== 'ready') {
          connection.disconnect();
          return;
        }
        await connection.quit().catch(() => connection.disconnect());
      }),
    );
  }

  // ---- connection and health ----

  #watchConnection(connection: RedisConnection, role: 'command' | 'subscriber'): void {
    connection.on('ready', () => this.#connectionUp(role));
    connection.on('close', () => this.#connectionDown(role, `the ${role} connection to ${this.description} closed`));
    connection.on('end', () => this.#connectionDown(role, `the ${role} connection to ${this.description} ended`));
    connection.on('reconnecting', () => this.#connectionDown(role, `the ${role} connection to ${this.description} is reconnecting`));
    // Without an 'error' listener an unreachable Redis would crash the process.
    connection.on('error', (error: Error) => this.#connectionError(role, error));
    connection.on('node error', (error: Error, address: string) => this.#connectionError(`${role} (node ${address})`, error));
  }

  #connectionUp(role: 'command' | 'subscriber'): void {
    if (this.#closed) return;
    this.#up[role] = true;
    this.#lastConnectionError = undefined;
    if (role === 'command') {
      this.#resync();
      return;
    }
    // Subscribe explicitly (ioredis also resubscribes): the full read must start after the subscription holds.
    this.#subscriber.subscribe(this.layout.events).then(
      () => {
        if (!this.#up.subscriber || this.#closed) return;
        this.#subscribed = true;
        this.#resync();
      },
      (error: Error) => this.#problem('connection', `could not subscribe to ${this.layout.events}: ${error.message}`),
    );
  }

  #connectionDown(role: 'command' | 'subscriber', reason: string): void {
    if (this.#closed) return;
    this.#up[role] = false;
    if (role === 'subscriber') this.#subscribed = false;
    this.#epoch++;
    this.#health.lost(reason);
  }

  #connectionError(role: string, error: Error): void {
    if (this.#closed) return;
    const message = `${role} connection: ${error.message}`;
    // Reconnection attempts repeat the same error: report it once per outage.
    if (message === this.#lastConnectionError) return;
    this.#lastConnectionError = message;
    this.#problem('connection', message);
  }

  /** After a (re)connection: read everything, then (and only then) report healthy. */
  #resync(): void {
    if (!this.#up.command || !this.#subscribed) return;
    this.#reconcile().catch(() => {});
  }

  #periodicReconcile(): void {
    if (this.#periodicRunning || !this.#up.command || this.#closed) return;
    this.#periodicRunning = true;
    this.#reconcile()
      .catch(() => {})
      .finally(() => {
        this.#periodicRunning = false;
      });
  }

  async #reconcile(): Promise<void> {
    const epoch = this.#epoch;
    try {
      // The marker first: a store that lost its data must not read as "every stopout was reset".
      await this.#checkEpochMarker();
      await this.#readEverything();
      await this.#flushPending();
    } catch (error) {
      if (this.#closed) return;
      const message = `reconciliation failed: ${(error as Error).message}`;
      this.#problem('connection', message);
      if (epoch === this.#epoch) this.#health.lost(message);
      throw error;
    }
    if (this.#closed || epoch !== this.#epoch || !this.#up.command || !this.#subscribed) return;
    this.#health.restored();
    const waiters = this.#healthyWaiters;
    this.#healthyWaiters = [];
    for (const waiter of waiters) waiter();
  }

  // ---- data loss and pending writes ----

  /** Reads the epoch marker (creating it on a store that has none yet); gone or changed since last seen: data loss. */
  async #checkEpochMarker(): Promise<void> {
    const key = this.layout.epoch;
    let value = await this.#readMarker(key);
    if (value !== null && value === this.#epochMarker) return;
    if (value === null) {
      await this.#command.set(key, `${toIso(this.#clock.now())}/${randomBytes(6).toString('hex')}`, 'NX');
      value = await this.#readMarker(key);
    }
    // Another reconciliation of this process may have got here first.
    if (value === this.#epochMarker || value === null) return;
    const before = this.#epochMarker;
    this.#epochMarker = value;
    if (before !== undefined) this.#dataLoss(`the epoch marker ${key} was ${JSON.stringify(before)}, now ${JSON.stringify(value)}`);
  }

  async #readMarker(key: string): Promise<string | null> {
    try {
      return await this.#command.get(key);
    } catch (error) {
      if (!(error as Error).message.startsWith('WRONGTYPE')) throw error;
      return '(not a string)';
    }
  }

  /** Everything this process holds is written back; nothing it holds is dropped (only a reset or expiry releases a stopout). */
  #dataLoss(reason: string): void {
    this.#dataLosses++;
    const now = this.#clock.now();
    let stopouts = 0;
    for (const stopout of this.#mirror.list()) {
      if (stopout.reason === NOT_A_HASH) continue; // the placeholder of an unreadable key, not a stopout to write
      const till = stopout.stoppedTill === undefined ? null : parseIsoTime(stopout.stoppedTill);
      if (till !== null && till <= now) continue; // expired: released by expiry, not re-asserted
      const key = pendingKey(this.layout.stopout(stopout.scope, stopout.id), stopout.reason);
      if (!this.#pending.has(key)) this.#pending.set(key, stopout);
      stopouts++;
    }
    let startTimes = 0;
    for (const startTime of this.#mirror.startTimes()) {
      this.#pendingStartTimes.set(this.layout.startTime(startTime.scope, startTime.id), startTime);
      startTimes++;
    }
    const message =
      `DATA LOSS: ${reason}: the store came back without the data it held (a restart without persistence, FLUSHALL, ` +
      `an empty replica). Not a reset: re-asserting the ${stopouts} stopouts and ${startTimes} start times this process holds`;
    this.#problem(this.layout.epoch, message);
    this.#emitReporting([{ kind: 'data-loss', reason: message, reasserted: stopouts }]);
  }

  /** Writes what this process holds and Redis lacks; a stopout already there (or a stronger one) is kept as it is. */
  async #flushPending(): Promise<void> {
    if (this.#flushing || (this.#pending.size === 0 && this.#pendingStartTimes.size === 0)) return;
    this.#flushing = true;
    try {
      // Re-asserted stopouts keep their sequences: lift the counter above them first.
      if ([...this.#pending.values()].some((s) => s.sequence > 0)) await this.#nextSequence();
      for (const [key, held] of [...this.#pending]) {
        try {
          await this.#write(held, held.sequence > 0 ? held.sequence : undefined);
        } catch (error) {
          // Unreachable again: the next reconciliation retries. Anything else is reported; the stopout stays held.
          if (this.#unavailableOr('write a held stopout', error) instanceof StoreUnavailableError) throw error;
          this.#problem(
            `${key.replace('\u0000', '[')}]`,
            `writing a held stopout failed: ${(error as Error).message}; retried at the next reconciliation`,
          );
          continue;
        }
        if (this.#pending.get(key) === held) this.#pending.delete(key);
      }
      for (const [key, held] of [...this.#pendingStartTimes]) {
        await this.#command.set(key, held.startTime, 'NX');
        if (this.#pendingStartTimes.get(key) === held) this.#pendingStartTimes.delete(key);
      }
    } finally {
      this.#flushing = false;
    }
  }

  /** What was read at (scope, id), with the stopouts held here that Redis lacks (or holds weaker) in place. */
  #withPending(scope: StopoutScope, id: string, read: StoredStopout[]): StoredStopout[] {
    if (this.#pending.size === 0) return read;
    const byReason = new Map(read.map((s) => [s.reason, s]));
    for (const held of this.#pending.values()) {
      if (held.scope !== scope || held.id !== id) continue;
      const stored = byReason.get(held.reason);
      if (stored === undefined || decideSet(held, stored, this.#clock.now()).kind === 'write') byReason.set(held.reason, held);
    }
    return [...byReason.values()];
  }

  // ---- reading ----

  async #freshRead(operation: string): Promise<void> {
    this.#assertConnected(operation);
    try {
      await this.#readEverything();
    } catch (error) {
      throw this.#unavailableOr(operation, error);
    }
  }

  /** SCAN every key-holding node, then re-read every key found and every key the mirror holds. */
  async #readEverything(): Promise<void> {
    const [stopoutKeys, startTimeKeys] = await Promise.all([
      this.#scan(this.layout.stopoutPattern()),
      this.#scan(this.layout.startTimePattern()),
    ]);
    const stopoutScopes = this.#scopesToRead(stopoutKeys, (k) => this.layout.parseStopoutKey(k), this.#mirror.scopes());
    const startTimeScopes = this.#scopesToRead(startTimeKeys, (k) => this.layout.parseStartTimeKey(k), this.#mirror.startTimeScopes());
    await Promise.all([
      ...stopoutScopes.map(({ scope, id }) => this.#readStopoutKey(scope, id)),
      ...startTimeScopes.map(({ scope, id }) => this.#readStartTimeKey(scope, id)),
    ]);
  }

  #scopesToRead(
    keys: string[],
    parse: (key: string) => ParsedScopeKey | null,
    known: Array<{ scope: StopoutScope; id: string }>,
  ): Array<{ scope: StopoutScope; id: string }> {
    const found = new Map<string, { scope: StopoutScope; id: string }>();
    for (const key of keys) {
      const parsed = this.#validScopeKey(key, parse(key));
      if (parsed !== null) found.set(key, parsed);
    }
    // A known key that the scan did not return is read too: its HGETALL decides whether it is gone.
    for (const { scope, id } of known) found.set(`${scope}:${id}`, { scope, id });
    return [...found.values()];
  }

  /** The key's scope and id when the scope is one of STOPOUT_SCOPES; otherwise reported (once) and ignored. */
  #validScopeKey(key: string, parsed: ParsedScopeKey | null): { scope: StopoutScope; id: string } | null {
    if (parsed === null) return null;
    if (!isStopoutScope(parsed.scope)) {
      this.#problemOnce(`scope:${key}`, key, `unknown scope ${JSON.stringify(parsed.scope)}; ignored`);
      return null;
    }
    if (parsed.id === '') {
      this.#problemOnce(`id:${key}`, key, 'empty id; ignored');
      return null;
    }
    return { scope: parsed.scope, id: parsed.id };
  }

  /** Every master of a Cluster, or the one server. */
  #scan(pattern: string): Promise<string[]> {
    return scanKeys(this.#command, pattern);
  }

  #readStopoutKey(scope: StopoutScope, id: string): Promise<void> {
    const key = this.layout.stopout(scope, id);
    const token = this.#token();
    return this.#command.hgetall(key).then(
      async (hash) => {
        if (!this.#fresh(key, token)) return;
        const stopouts = Object.entries(hash).map(([reason, raw]) => decodeStopoutValue({ scope, id, reason }, raw));
        const vanished = this.#mirror.list().some((s) => s.scope === scope && s.id === id && !(s.reason in hash));
        if (vanished) {
          // A stopout gone is a reset only if the store still has its data: check the marker first (a read
          // queued across a reconnection, or an event after a FLUSHALL, must not release what was lost).
          await this.#checkEpochMarker();
          if (this.#applied.get(key) !== token) return;
        }
        this.#emitReporting(this.#mirror.replaceScope(scope, id, this.#withPending(scope, id, stopouts)));
      },
      (error: Error) => {
        if (!error.message.startsWith('WRONGTYPE')) throw error;
        // Fail closed: a stopout key that is not a hash still stops its scope until someone DELs it.
        if (!this.#fresh(key, token)) return;
        const stopout: StoredStopout = {
          scope,
          id,
          reason: NOT_A_HASH,
          closePositions: false,
          sequence: 0,
          malformed: `${key} is not a hash; DEL it to clear`,
        };
        this.#emitReporting(this.#mirror.replaceScope(scope, id, [stopout]));
      },
    );
  }

  #readStartTimeKey(scope: StopoutScope, id: string): Promise<void> {
    const key = this.layout.startTime(scope, id);
    const token = this.#token();
    return this.#command.get(key).then((value) => {
      if (!this.#fresh(key, token)) return;
      value ??= this.#pendingStartTimes.get(key)?.startTime ?? null;
      if (value !== null && parseIsoTime(value) === null) {
        this.#problemOnce(
          `start-time:${key}:${value}`,
          key,
          `expected an ISO 8601 time, got ${JSON.stringify(value.slice(0, 40))}; ignored`,
        );
        value = null;
      }
      this.#emitReporting(this.#mirror.setStartTime(scope, id, value ?? undefined));
    });
  }

  #onEvent(message: string): void {
    if (this.#closed) return;
    let event: unknown;
    try {
      event = JSON.parse(message);
    } catch {
      this.#problem(this.layout.events, `ignored a message that is not JSON: ${JSON.stringify(message.slice(0, 80))}`);
      return;
    }
    const { type, scope, id } = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
    if ((type !== 'stopout' && type !== 'start-time') || !isStopoutScope(scope) || typeof id !== 'string' || id === '') {
      this.#problem(
        this.layout.events,
        `ignored an unknown or malformed message (expected {"type":"stopout"|"start-time","scope","id"}): ${message.slice(0, 120)}`,
      );
      return;
    }
    // A lost command connection is caught up by the full read on reconnect.
    if (!this.#up.command) return;
    const read = type === 'stopout' ? this.#readStopoutKey(scope, id) : this.#readStartTimeKey(scope, id);
    read.catch((error: Error) => this.#problem(this.layout.events, `could not re-read ${scope} ${id} after an event: ${error.message}`));
  }

  // ---- applying ----

  #token(): number {
    return ++this.#nextToken;
  }

  /** Replies on one connection come in order, but a redirected Cluster command may not: keep the newest. */
  #fresh(key: string, token: number): boolean {
    if (token < (this.#applied.get(key) ?? 0)) return false;
    this.#applied.set(key, token);
    return true;
  }

  /** An own write: its changes go to the listeners now, and a listener's error to the caller. */
  #applyOwn(key: string, token: number, apply: () => StoreChange[]): void {
    if (!this.#fresh(key, token)) return;
    const changes = apply();
    this.#reportMalformed(changes);
    this.#listeners.emit(changes);
  }

  /** Changes found by reading: a listener's error is reported, it has no caller to go to. */
  #emitReporting(changes: StoreChange[]): void {
    this.#reportMalformed(changes);
    try {
      this.#listeners.emit(changes);
    } catch (error) {
      this.#problem('watch', `a watch listener threw: ${(error as Error).message}`);
    }
  }

  #reportMalformed(changes: StoreChange[]): void {
    for (const change of changes) {
      if (change.kind !== 'set' || change.stopout.malformed === undefined) continue;
      const { scope, id, reason, malformed } = change.stopout;
      this.#problem(
        `${this.layout.stopout(scope, id)}[${reason}]`,
        `malformed value, counted as a stopout without closePositions: ${malformed}`,
      );
    }
  }

  async #publish(event: { type: 'stopout' | 'start-time'; scope: StopoutScope; id: string }): Promise<void> {
    try {
      await this.#command.publish(this.layout.events, JSON.stringify(event));
    } catch (error) {
      // The write itself is done; other processes find it by reconciliation within reconcileEveryMs.
      this.#problem(this.layout.events, `could not publish ${event.type} ${event.scope} ${event.id}: ${(error as Error).message}`);
    }
  }

  // ---- errors and problems ----

  #assertConnected(operation: string): void {
    if (this.#closed) throw new StoreUnavailableError(operation, 'the store is closed');
    if (this.#command.status !== 'ready' || !this.#up.command) {
      throw this.#unreachable(operation, this.#lastConnectionError ?? this.#health.reason() ?? this.#command.status);
    }
  }

  #unavailableOr(operation: string, error: unknown): Error {
    if (error instanceof StoreUnavailableError) return error;
    const message = error instanceof Error ? error.message : String(error);
    if (this.#closed) return new StoreUnavailableError(operation, 'the store is closed');
    if (
      this.#command.status !== 'ready' ||
      !this.#up.command ||
      /Connection is closed|ECONNREFUSED|ECONNRESET|timed out|isn't writeable/i.test(message)
    ) {
      return this.#unreachable(operation, message);
    }
    return error instanceof Error ? error : new Error(message);
  }

  #unreachable(operation: string, cause: string): StoreUnavailableError {
    return new StoreUnavailableError(operation, `${this.description} is unreachable (${cause})`);
  }

  #problem(where: string, message: string): void {
    const problem: StoreProblem = { at: toIso(this.#clock.now()), where, message };
    this.#problems.push(problem);
    if (this.#problems.length > MAX_KEPT_PROBLEMS) this.#problems.shift();
    try {
      this.#onProblem?.(problem);
    } catch {
      // A failing problem sink must not take the store down with it.
    }
  }

  #problemOnce(identity: string, where: string, message: string): void {
    if (this.#reportedOnce.has(identity)) return;
    this.#reportedOnce.add(identity);
    this.#problem(where, message);
  }
}

function pendingKey(key: string, reason: string): string {
  return `${key}\u0000${reason}`;
}

/** A breach record's message; an unreadable record still counts (it refuses a reset), with a message saying so. */
function breachMessage(raw: string): string {
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string') {
      return (value as { message: string }).message;
    }
  } catch {
    // fall through
  }
  return `(unreadable breach record: ${raw.slice(0, 80)})`;
}
