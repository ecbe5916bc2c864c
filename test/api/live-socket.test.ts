import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { liveMessageSchema } from '../../src/api/api-schemas.ts';
import type { LiveMessage } from '../../src/api/api-types.ts';
import { startApiServer } from '../../src/api/api-server.ts';
import { FleetView } from '../../src/api/fleet-view.ts';
import type { TimelineRecord } from '../../src/timeline/timeline-record.ts';
import { eventually } from '../supervisor/eventually.ts';
import { READ_TOKEN, startApiFixture, type ApiFixture } from './api-harness.ts';

/*
 * The live socket on a real fleet: a state change is on its way to a client as its record is written
 * (before the server's answer to a ping sent after that), marks are thinned, and a client that stops reading
 * is dropped instead of buffered for.
 */

interface Received {
  message: LiveMessage;
}

function listen(
  url: string,
  headers: Record<string, string> = { authorization: `Bearer ${READ_TOKEN}` },
): Promise<{ socket: WebSocket; received: Received[] }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    const received: Received[] = [];
    socket.on('message', (data) => {
      received.push({ message: liveMessageSchema.parse(JSON.parse(String(data))) as LiveMessage });
    });
    socket.once('open', () => resolve({ socket, received }));
    socket.once('error', reject);
  });
}

/**
 * Pings the server; resolves with how many messages the client had when the pong came. The server answers a
 * ping on the same ordered stream once it reads it, so every message it sent before then is counted.
 */
function messagesBeforePong(client: { socket: WebSocket; received: Received[] }): Promise<number> {
  return new Promise((resolve) => {
    client.socket.once('pong', () => resolve(client.received.length));
    client.socket.ping();
  });
}

/** Where a written record is among the messages a client received (-1: not there). */
function indexOf(received: Received[], record: TimelineRecord): number {
  const json = JSON.stringify(record);
  return received.findIndex(
    (x) => x.message.type === 'record' && (x.message.record === record || JSON.stringify(x.message.record) === json),
  );
}

const records = (received: Received[]): TimelineRecord[] =>
  received.flatMap((r) => (r.message.type === 'record' ? [r.message.record] : []));

/** How long a wait may last before it fails naming what it awaited: a hang guard inside the test timeout, not a requirement. */
const HANG_GUARD_MS = 10_000;

let f: ApiFixture;
let client: { socket: WebSocket; received: Received[] };

beforeAll(async () => {
  f = await startApiFixture({
    pauses: [30_000, 70_000],
    beforeRun: async (api) => {
      client = await listen(`${api.url.replace('http', 'ws')}/api/v1/live`);
    },
  });
  await f.pausedAt(30_000);
});
afterAll(async () => {
  client?.socket.close();
  await f?.close();
});

describe('live socket', () => {
  it('says hello first', () => {
    expect(client.received[0]!.message).toEqual({ type: 'hello', at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
  });

  it('pushes every record of the live kinds as it is written, in order (marks thinned)', async () => {
    const expected = f.written.map((w) => w.record).filter((r) => !['mark', 'summary'].includes(r.kind));
    const nonMarks = (): TimelineRecord[] => records(client.received).filter((r) => r.kind !== 'mark');
    await eventually('every record written so far', HANG_GUARD_MS, () => (nonMarks().length >= expected.length ? true : undefined));
    const sent = nonMarks();
    expect(sent).toEqual(expected);
    expect(sent.map((r) => r.kind)).toEqual(expect.arrayContaining(['state', 'decision', 'order', 'order-update', 'risk']));
  });

  it('a state change is sent to the client as its record is written, not later', async () => {
    const before = client.received.length;
    const r = await f.post('/api/v1/stopouts', { scope: 'fleet', id: '*', reason: 'manual' });
    expect(r.status).toBe(200);
    const writtenStates = f.written.filter((w) => w.record.kind === 'state' && w.record.to === 'stopped-out');
    expect(writtenStates).toHaveLength(2);
    // Behaviour, not time: both records were written before the reply, so a ping sent after the reply is
    // answered after them on the same stream; a record held back by any timer would come after the pong.
    const beforePong = await messagesBeforePong(client);
    for (const w of writtenStates) {
      const at = indexOf(client.received, w.record);
      expect(at).toBeGreaterThanOrEqual(before);
      expect(at).toBeLessThan(beforePong);
    }
    // The stopout and operator records came too.
    expect(records(client.received.slice(before)).map((x) => x.kind)).toEqual(
      expect.arrayContaining(['stopout', 'operator', 'state', 'risk']),
    );
  });

  it('with the fleet running at full speed, state changes are still sent as they are written and marks are thinned', async () => {
    await f.post('/api/v1/stopouts/reset', { scope: 'fleet', id: '*', reason: 'manual' });
    const from = f.written.length;
    const before = client.received.length;
    // Behaviour, not time: a ping sent the moment a state record is written is answered after that record.
    const pongs: Array<{ record: TimelineRecord; beforePong: Promise<number> }> = [];
    const unsubscribe = f.view.subscribe((record) => {
      if (record.kind === 'state') pongs.push({ record, beforePong: messagesBeforePong(client) });
    });
    f.resume();
    await f.pausedAt(70_000);
    unsubscribe();
    await eventually('the last record to arrive', HANG_GUARD_MS, () => {
      const last = f.written.at(-1)!.record;
      return records(client.received).some((r) => JSON.stringify(r) === JSON.stringify(last)) || last.kind === 'mark' ? true : undefined;
    });
    const states = f.written.slice(from).filter((w) => w.record.kind === 'state');
    // 61 s: the gap to 1700 stops core's members out.
    expect(states.map((w) => w.record.t)).toEqual([61_000, 61_000]);
    expect(pongs.map((p) => p.record)).toEqual(states.map((w) => w.record));
    for (const { record, beforePong } of pongs) {
      const at = indexOf(client.received, record);
      expect(at).toBeGreaterThanOrEqual(before);
      expect(at).toBeLessThan(await beforePong);
    }
    const marksWritten = f.written
      .slice(from)
      .filter((w) => w.record.kind === 'mark')
      .map((w) => w.record);
    expect(marksWritten).toHaveLength(40); // one a second, 31 s … 70 s
    // The newest mark of a burst is held until its 250 ms are up, then sent: the last one always arrives.
    const last = marksWritten.at(-1)!;
    await eventually('the last mark', HANG_GUARD_MS, () =>
      records(client.received).some((r) => r.kind === 'mark' && r.t === last.t) ? true : undefined,
    );
    const marksSent = records(client.received.slice(before)).filter((r) => r.kind === 'mark');
    expect(marksSent.length).toBeLessThan(marksWritten.length);
    expect(marksSent.at(-1)).toEqual(last);
  });
});

/** A WebSocket client that completes the handshake and then never reads. */
function stalledClient(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.write(
        [
          'GET /api/v1/live HTTP/1.1',
          `Host: 127.0.0.1:${port}`,
          'Upgrade: websocket',
          'Connection: Upgrade',
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
          'Sec-WebSocket-Version: 13',
          `Authorization: Bearer ${READ_TOKEN}`,
          '',
          '',
        ].join('\r\n'),
      );
    });
    socket.once('data', (head) => {
      expect(head.toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
      socket.pause();
      resolve(socket);
    });
  });
}

describe('slow clients', () => {
  it('a client that stops reading is dropped; the others keep receiving', async () => {
    const view = new FleetView();
    const api = await startApiServer({ view, port: 0, tokens: { read: READ_TOKEN }, live: { maxBufferedBytes: 256 * 1024 } });
    try {
      const stalled = await stalledClient(api.port);
      const closed = new Promise<void>((resolve) => stalled.once('close', () => resolve()));
      const healthy = await listen(`${api.url.replace('http', 'ws')}/api/v1/live`);
      const reason = 'x'.repeat(16 * 1024);
      // Up to 4000 records of ~16 KiB, 8 at a time (128 KiB, under the 256 KiB cap) with a pause between:
      // the healthy client takes each batch; the stalled one's backlog grows past what loopback buffers hold.
      for (let i = 0; i < 4000 && api.live.dropped === 0; i += 1) {
        view.record({ t: i, kind: 'state', account: 'alpha', from: 'trading', to: 'trading', reason });
        if (i % 8 === 7) await new Promise((resolve) => setTimeout(resolve, 2));
      }
      expect(api.live.dropped).toBe(1);
      stalled.resume();
      await closed;
      view.record({ t: 99_999, kind: 'state', account: 'alpha', from: 'trading', to: 'stopped-out', reason: 'stopout' });
      await eventually('the healthy client to get the last record', 5_000, () =>
        records(healthy.received).some((r) => r.t === 99_999) ? true : undefined,
      );
      expect(api.live.clientCount).toBe(1);
      healthy.socket.close();
    } finally {
      await api.close();
    }
  });

  it('a burst within one turn goes through to a client that reads', async () => {
    const view = new FleetView();
    const api = await startApiServer({ view, port: 0, tokens: { read: READ_TOKEN }, live: { maxBufferedBytes: 64 * 1024 } });
    try {
      const healthy = await listen(`${api.url.replace('http', 'ws')}/api/v1/live`);
      // 2000 accounts change state at once (a fleet crash): ~0.4 MB in one turn, over maxBufferedBytes.
      for (let i = 0; i < 2000; i += 1)
        view.record({ t: 0, kind: 'state', account: `a${i}`, from: 'trading', to: 'stopped-out', reason: 'stopout' });
      await eventually('all 2000 records', 5_000, () => (records(healthy.received).length === 2000 ? true : undefined));
      expect(api.live.dropped).toBe(0);
      healthy.socket.close();
    } finally {
      await api.close();
    }
  });
});
