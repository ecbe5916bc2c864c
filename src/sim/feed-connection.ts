import { WebSocket } from 'ws';
import type { WorkTracker } from '../clock/work-tracker.ts';
import type { Feed, MessageType } from '../derivadex/feed-messages.ts';
import { SERVER_CLOSE_CODE } from '../derivadex/paths.ts';
import { ConnectionFaults, type FaultState } from './faults.ts';
import type { Subscription } from './subscriptions.ts';

export type Tracker = Pick<WorkTracker, 'begin' | 'end'> & Partial<Pick<WorkTracker, 'park' | 'unpark'>>;

/** A feed frame as the simulator writes it (feed-messages.ts `frameEnvelopeSchema`; rows already in their feed's shape). */
export interface FeedFrame {
  sequence: number;
  ordinal: number;
  feed: Feed;
  subscriptionKey: string;
  contents: { messageType: MessageType; data: unknown[] };
}

/** Builds a feed frame once its ordinal is known. */
export type FrameBuilder = (ordinal: number) => FeedFrame;

/**
 * One client WebSocket as the simulator sees it: its subscriptions (one per feed), its `ordinal` (per
 * connection, from 0, +1 per feed frame; docs realtime examples start at 0) and the fault pipeline every feed frame goes through — drop (the ordinal is taken,
 * nothing is sent: a gap), pause (held, ordinal assigned when finally sent), duplicate (sent twice with
 * one ordinal), reorder (swapped with the next frame). Every frame written is counted with
 * `tracker.begin()`; the client ends it once handled. A frame the socket fails to write is ended here.
 */
export class FeedConnection {
  readonly id: number;
  readonly subscriptions = new Map<Feed, Subscription>();
  readonly faults = new ConnectionFaults();
  readonly #ws: WebSocket;
  readonly #state: FaultState;
  readonly #tracker: Tracker;
  #ordinal = 0;
  readonly #paused: Array<{ feed: Feed; build: FrameBuilder }> = [];
  #reorderHeld: { text: string; copies: number } | null = null;

  constructor(id: number, ws: WebSocket, state: FaultState, tracker: Tracker) {
    this.id = id;
    this.#ws = ws;
    this.#state = state;
    this.#tracker = tracker;
  }

  get open(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  /** The ordinal the next feed frame gets (0 before any; a dropped frame takes one too). */
  get nextOrdinal(): number {
    return this.#ordinal;
  }

  /** A control frame (an ack): no ordinal, no feed faults. */
  sendControl(message: unknown): void {
    this.#write(JSON.stringify(message));
  }

  /** A feed frame through the fault pipeline. */
  deliver(feed: Feed, build: FrameBuilder): void {
    this.release();
    if (this.#paused.some((p) => p.feed === feed)) {
      this.#paused.push({ feed, build });
      return;
    }
    const fate = this.#state.frameFate(feed);
    if (fate === 'drop') {
      this.#ordinal += 1; // the gap the client must notice
      return;
    }
    if (fate === 'hold') {
      this.#paused.push({ feed, build });
      return;
    }
    this.#send(feed, build);
  }

  /**
   * Sends held frames whose pause is over, in order. (A frame held for reordering waits for the next
   * frame on this connection, whenever that comes: marks arrive every second.)
   */
  release(): void {
    while (this.#paused.length > 0) {
      const i = this.#paused.findIndex((p) => !this.#state.paused(p.feed));
      if (i < 0) break;
      // Keep per-feed order: only the first held frame of a feed may go.
      const first = this.#paused.findIndex((p) => p.feed === this.#paused[i]!.feed);
      const [held] = this.#paused.splice(first, 1);
      this.#send(held!.feed, held!.build);
    }
  }

  close(code: number, reason: string): void {
    this.#paused.length = 0;
    this.#reorderHeld = null;
    if (this.#ws.readyState !== WebSocket.OPEN && this.#ws.readyState !== WebSocket.CONNECTING) return;
    // A server-initiated close is a frame like any other: the client ends this work when it has handled
    // it (and begun its reconnect), so a simulation cannot reach quiescence in between.
    if (code === SERVER_CLOSE_CODE) this.#tracker.begin();
    this.#ws.close(code, reason);
  }

  #send(feed: Feed, build: FrameBuilder): void {
    const text = JSON.stringify(build(this.#ordinal));
    this.#ordinal += 1;
    const copies = this.faults.takeDuplicate(feed) ? 2 : 1;
    if (this.#reorderHeld !== null) {
      const held = this.#reorderHeld;
      this.#reorderHeld = null;
      for (let i = 0; i < copies; i++) this.#write(text);
      for (let i = 0; i < held.copies; i++) this.#write(held.text);
      return;
    }
    if (this.faults.takeReorder(feed)) {
      this.#reorderHeld = { text, copies };
      return;
    }
    for (let i = 0; i < copies; i++) this.#write(text);
  }

  #write(text: string): void {
    if (this.#ws.readyState !== WebSocket.OPEN) return;
    this.#tracker.begin();
    this.#ws.send(text, (error) => {
      if (error) this.#tracker.end();
    });
  }
}
