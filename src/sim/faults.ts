import type { Clock } from '../clock/clock.ts';
import type { FaultConfig } from '../config/fault-schema.ts';
import type { OrderRejectionName } from '../derivadex/codes.ts';
import type { Feed } from '../derivadex/feed-messages.ts';

/**
 * The faults the simulator injects (scenario `faults`, docs/contracts.md#scenario-faults), and the state that decides, frame by frame
 * and request by request, what they do. Time-based faults run on the injected clock: they start when
 * injected and end when the clock has moved `duration` past that; nothing here looks at wall time.
 *
 * What each fault does on the wire:
 * - reject-next-order: the strategy's next executed order gets ORDER_UPDATE OrderRejection `reason`.
 * - drop-feed: frames of `feed` are not sent for `duration`, but each one still takes its ordinal, so
 *   the client sees an ordinal GAP on its connection (and must repair from REST).
 * - pause-feed: frames of `feed` are held for `duration` and then delivered late, in order; ordinals
 *   are assigned when they are finally sent, so there is no gap — only staleness.
 * - delay-acks: the next `count` sequenced requests execute at once, but their HTTP answer (the
 *   receipt) is written only once the clock has advanced `duration` past the request's arrival.
 * - drop-acks: the next `count` sequenced requests execute, but are answered 503 ServiceUnavailable:
 *   the client must reconcile (REST, ORDER_UPDATE) rather than trust the answer.
 * - duplicate-messages: on every connection open at injection, the next `count` feed frames (of `feed`
 *   if given) are sent twice with the same ordinal.
 * - reorder-messages: on every connection open at injection, the next `count` feed frames (of `feed` if
 *   given) are each swapped with the frame that follows them on that connection (ordinal n+1 arrives
 *   before n). The held frame waits for that follower, however long it takes.
 * - disconnect: every WebSocket is closed (SERVER_CLOSE_CODE 1012); the client reconnects and resubscribes.
 */
export type SimFault =
  | { kind: 'reject-next-order'; trader: string; strategyId: string; reason: OrderRejectionName }
  | { kind: 'drop-feed'; feed: Feed; duration: number }
  | { kind: 'pause-feed'; feed: Feed; duration: number }
  | { kind: 'delay-acks'; duration: number; count?: number }
  | { kind: 'drop-acks'; count?: number }
  | { kind: 'duplicate-messages'; feed?: Feed; count?: number }
  | { kind: 'reorder-messages'; feed?: Feed; count?: number }
  | { kind: 'disconnect' };

/** A scenario fault (docs/contracts.md#scenario-faults) as the simulator takes it; `account` resolves to the venue strategy. */
export function faultFromConfig(config: FaultConfig, account: (id: string) => { trader: string; strategyId: string }): SimFault {
  switch (config.kind) {
    case 'reject-next-order': {
      const { trader, strategyId } = account(config.account);
      return { kind: config.kind, trader, strategyId, reason: config.reason };
    }
    case 'drop-feed':
    case 'pause-feed':
      return { kind: config.kind, feed: config.feed, duration: config.duration };
    case 'delay-acks':
      return { kind: config.kind, duration: config.duration, count: config.count };
    case 'drop-acks':
      return { kind: config.kind, count: config.count };
    case 'duplicate-messages':
    case 'reorder-messages':
      return config.feed === undefined
        ? { kind: config.kind, count: config.count }
        : { kind: config.kind, feed: config.feed, count: config.count };
    case 'disconnect':
      return { kind: 'disconnect' };
  }
}

/** What to do with one feed frame. */
export type FrameFate = 'send' | 'drop' | 'hold';

/** What to do with the answer to one sequenced request. */
export type AckFate = { kind: 'answer' } | { kind: 'drop' } | { kind: 'delay'; until: number };

/** Counted per-connection faults (duplicate, reorder). */
export class ConnectionFaults {
  readonly #duplicate: Array<{ feed?: Feed; left: number }> = [];
  readonly #reorder: Array<{ feed?: Feed; left: number }> = [];

  add(fault: SimFault & { kind: 'duplicate-messages' | 'reorder-messages' }): void {
    const entry = { left: fault.count ?? 1, ...(fault.feed === undefined ? {} : { feed: fault.feed }) };
    (fault.kind === 'duplicate-messages' ? this.#duplicate : this.#reorder).push(entry);
  }

  /** True (and one fewer left) when this frame must be sent twice. */
  takeDuplicate(feed: Feed): boolean {
    return take(this.#duplicate, feed);
  }

  /** True (and one fewer left) when this frame must be swapped with the next one. */
  takeReorder(feed: Feed): boolean {
    return take(this.#reorder, feed);
  }
}

function take(list: Array<{ feed?: Feed; left: number }>, feed: Feed): boolean {
  const i = list.findIndex((e) => e.left > 0 && (e.feed === undefined || e.feed === feed));
  if (i < 0) return false;
  const entry = list[i]!;
  entry.left -= 1;
  if (entry.left === 0) list.splice(i, 1);
  return true;
}

/** Time windows and counters shared by every connection and request. */
export class FaultState {
  readonly #clock: Clock;
  readonly #dropUntil = new Map<Feed, number>();
  readonly #pauseUntil = new Map<Feed, number>();
  readonly #ackFaults: Array<{ kind: 'drop' } | { kind: 'delay'; duration: number }> = [];

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Records a window or counter fault; returns false for the kinds this state does not hold. */
  add(fault: SimFault): boolean {
    const now = this.#clock.now();
    switch (fault.kind) {
      case 'drop-feed':
        this.#dropUntil.set(fault.feed, Math.max(this.#dropUntil.get(fault.feed) ?? 0, now + fault.duration));
        return true;
      case 'pause-feed':
        this.#pauseUntil.set(fault.feed, Math.max(this.#pauseUntil.get(fault.feed) ?? 0, now + fault.duration));
        return true;
      case 'drop-acks':
        for (let i = 0; i < (fault.count ?? 1); i++) this.#ackFaults.push({ kind: 'drop' });
        return true;
      case 'delay-acks':
        for (let i = 0; i < (fault.count ?? 1); i++) this.#ackFaults.push({ kind: 'delay', duration: fault.duration });
        return true;
      default:
        return false;
    }
  }

  /** The fate of a frame of `feed` now: dropped (a gap), held (pause) or sent. */
  frameFate(feed: Feed): FrameFate {
    const now = this.#clock.now();
    if (now < (this.#dropUntil.get(feed) ?? 0)) return 'drop';
    if (now < (this.#pauseUntil.get(feed) ?? 0)) return 'hold';
    return 'send';
  }

  /** True while frames of `feed` are being held. */
  paused(feed: Feed): boolean {
    return this.#clock.now() < (this.#pauseUntil.get(feed) ?? 0);
  }

  /** The fate of the answer to a request sequenced now (consumes one ack fault). */
  takeAckFate(): AckFate {
    const fault = this.#ackFaults.shift();
    if (fault === undefined) return { kind: 'answer' };
    if (fault.kind === 'drop') return fault;
    return { kind: 'delay', until: this.#clock.now() + fault.duration };
  }
}
