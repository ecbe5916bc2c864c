// @ts-check
// The live feed: the WebSocket /api/v1/live, reconnected with a growing delay when it drops, with polling
// meanwhile, so the page stays current without it (and is refreshed now and then with it).

import { API, asRecord } from './api-client.js';
import { setConn } from './page-status.js';

/** @typedef {import('./api-types.js').TimelineRecord} TimelineRecord */
/**
 * What the feed does with what it gets.
 * @typedef {object} LiveHandlers
 * @property {(record: TimelineRecord) => void} onRecord every record the server pushes
 * @property {() => void} catchUp on every (re)connect: one full read of what was missed while the socket was down
 * @property {() => Promise<unknown>} pollFleet every poll: the fleet
 * @property {() => Promise<unknown>} pollOthers every poll while the socket is down, after the fleet: the rest
 */

const POLL_MS = 2000;
const LIVE_REFRESH_MS = 5000;

/** @param {LiveHandlers} handlers */
export function startLive({ onRecord, catchUp, pollFleet, pollOthers }) {
  /** @type {WebSocket | null} */
  let socket = null;
  let live = false;
  let retry = 0;
  /** @type {number | undefined} */
  let retryTimer;
  /** @type {number | undefined} */
  let pollTimer;

  const connect = () => {
    clearTimeout(retryTimer);
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${API}/live`;
    /** @type {WebSocket} */
    let ws;
    try {
      ws = new WebSocket(url);
    } catch {
      scheduleReconnect();
      return;
    }
    socket = ws;
    setConn('connecting', 'connecting…');
    ws.addEventListener('open', () => {
      live = true;
      setConn('live', 'live');
      catchUp();
      schedulePoll();
    });
    ws.addEventListener('message', (event) => {
      /** @type {unknown} */
      let message;
      try {
        message = JSON.parse(String(event.data));
      } catch {
        return;
      }
      // The server spoke: the connection works, so the next drop starts the backoff afresh.
      retry = 0;
      const m = asRecord(message);
      if (m && m.type === 'record' && asRecord(m.record)) onRecord(/** @type {TimelineRecord} */ (m.record));
    });
    ws.addEventListener('close', () => {
      if (socket !== ws) return;
      socket = null;
      live = false;
      scheduleReconnect();
    });
    ws.addEventListener('error', () => {
      /* the close event follows and schedules the retry */
    });
  };

  const scheduleReconnect = () => {
    const delay = Math.min(10_000, 500 * 2 ** retry);
    retry += 1;
    setConn('down', `live feed down — polling every ${POLL_MS / 1000} s, retry in ${Math.round(delay / 100) / 10} s`);
    retryTimer = setTimeout(connect, delay);
    schedulePoll();
  };

  // Every 2 s while the socket is down, every 5 s while it is up.
  const schedulePoll = () => {
    clearTimeout(pollTimer);
    pollTimer = setTimeout(
      async () => {
        await pollFleet();
        if (!live) await pollOthers();
        schedulePoll();
      },
      live ? LIVE_REFRESH_MS : POLL_MS,
    );
  };

  connect();
}
