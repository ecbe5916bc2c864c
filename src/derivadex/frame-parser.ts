import type { z } from 'zod';
import { type Ack, FEEDS, type Feed, type FeedMessage, ROW_SCHEMAS, ackSchema, frameEnvelopeSchema } from './feed-messages.ts';
import { firstIssue, formatPath } from './wire-values.ts';

/*
 * Every inbound WebSocket frame goes through `parseFrame`, which never throws: it returns either a typed
 * frame or a `FrameError` naming the place that is wrong, e.g.
 * `contents.data[0].makerOrderIntent.orderHash: expected 25-byte hex`. The caller counts the rejects; a
 * rejected frame changes no state. Shapes: feed-messages.ts (the SDK's realtime models and the docs).
 */

export type FrameErrorCode =
  /** Binary frame or text that is not valid UTF-8. */
  | 'not-text'
  | 'not-json'
  /** JSON, but neither an acknowledgement nor a feed message. */
  | 'bad-shape'
  | 'unknown-feed'
  /** A feed message whose envelope is fine but one of whose rows is not. */
  | 'bad-row';

export interface FrameError {
  code: FrameErrorCode;
  /** Where in the frame, e.g. `contents.data[2].price`; '' for the frame as a whole. */
  path: string;
  message: string;
}

export type ParsedFrame = { kind: 'ack'; ack: Ack } | { kind: 'feed'; message: FeedMessage };

export type FrameParse = { ok: true; frame: ParsedFrame } | { ok: false; error: FrameError };

/** Frames larger than this are refused unparsed: no venue message comes close. */
export const MAX_FRAME_CHARS = 4 * 1024 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function fail(code: FrameErrorCode, path: string, message: string): FrameParse {
  return { ok: false, error: { code, path, message } };
}

function isFeed(s: string): s is Feed {
  return (FEEDS as readonly string[]).includes(s);
}

/** What `ws` hands a 'message' listener, or a plain string. */
export type RawFrame = string | Buffer | ArrayBuffer | Buffer[];

function toText(raw: RawFrame, isBinary: boolean): string | undefined {
  if (typeof raw === 'string') return raw;
  if (isBinary) return undefined;
  const bytes = Array.isArray(raw) ? Buffer.concat(raw) : Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Parses and validates one frame. Total: returns a FrameError for anything it cannot accept. */
export function parseFrame(raw: RawFrame, isBinary = false): FrameParse {
  let text: string | undefined;
  try {
    text = toText(raw, isBinary);
  } catch {
    text = undefined;
  }
  if (text === undefined) return fail('not-text', '', 'expected a UTF-8 text frame');
  if (text.length > MAX_FRAME_CHARS) return fail('not-json', '', `frame of ${text.length} characters exceeds ${MAX_FRAME_CHARS}`);

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail('not-json', '', 'frame is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('bad-shape', '', 'expected a JSON object');
  }

  // Only `result` is required of an acknowledgement (SDK `AcknowledgePayload`); a feed message has none.
  if (Object.hasOwn(value, 'result') && !Object.hasOwn(value, 'feed')) {
    const ack = ackSchema.safeParse(value);
    if (!ack.success) {
      const { path, message } = firstIssue(ack.error, '');
      return fail('bad-shape', path, message);
    }
    return { ok: true, frame: { kind: 'ack', ack: ack.data } };
  }

  const envelope = frameEnvelopeSchema.safeParse(value);
  if (!envelope.success) {
    const { path, message } = firstIssue(envelope.error, '');
    return fail('bad-shape', path, message);
  }
  const { feed } = envelope.data;
  if (!isFeed(feed)) return fail('unknown-feed', 'feed', `unknown feed ${JSON.stringify(feed).slice(0, 64)}`);

  const schema: z.ZodType = ROW_SCHEMAS[feed];
  const rows: unknown[] = [];
  const data = envelope.data.contents.data;
  for (let i = 0; i < data.length; i += 1) {
    const row = schema.safeParse(data[i]);
    if (!row.success) {
      const issue = row.error.issues[0];
      return fail('bad-row', formatPath(`contents.data[${i}]`, issue?.path ?? []), issue?.message ?? 'invalid row');
    }
    rows.push(row.data);
  }
  // Each row passed its feed's schema, so the rows are of the feed's type.
  const message = { ...envelope.data, feed, contents: { messageType: envelope.data.contents.messageType, data: rows } } as FeedMessage;
  return { ok: true, frame: { kind: 'feed', message } };
}
