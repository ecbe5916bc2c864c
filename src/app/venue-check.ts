import WebSocket from 'ws';
import type { z } from 'zod';
import { ackSchema, type SubscribeMessage } from '../derivadex/feed-messages.ts';
import { parseFrame, type RawFrame } from '../derivadex/frame-parser.ts';
import { PATHS, REALTIME_PATH } from '../derivadex/paths.ts';
import { deploymentInfoSchema, encryptionKeySchema, exchangeInfoBodySchema, markPricesPageSchema } from '../derivadex/rest-bodies.ts';
import { parseJson, parseWire, type WireIssue } from '../derivadex/wire-values.ts';

/*
 * `riskwarden venue check`: a read-only probe of a DerivaDEX gateway (the exchange's testnet, or
 * `riskwarden sim`) before anyone trusts it with money. It GETs the four public reads the client
 * bootstraps from, subscribes to MARK_PRICE, and validates every answer against the shared schemas in
 * src/derivadex/ (docs/derivadex-sources.md §1, §3.5, §5). It never POSTs and never signs. Nothing here
 * throws for anything the venue does: an unreachable venue, a timeout, a wrong shape is a failed row.
 */

export const DEFAULT_DEPLOYMENT = 'mainnet';
export const DEFAULT_TIMEOUT_MS = 10_000;
/** The SUBSCRIBE's nonce; the SDK numbers control messages "0", "1", … (SDK `realtime_client.py`). */
export const SUBSCRIBE_NONCE = '0';

export interface VenueCheckOptions {
  /** The gateway's REST base, e.g. `https://testnet.derivadex.io`. */
  url: URL;
  /** The realtime API; default {@link defaultRealtimeUrl}. */
  ws?: URL;
  /** `contractDeployment` of the deployment-info read (SDK: "mainnet", "testnet", …). */
  deployment?: string;
  /** Symbols to ask marks for; default every symbol `exchange_info` lists. */
  symbols?: readonly string[];
  /** How long each read, and the realtime check as a whole, may take. */
  timeoutMs?: number;
}

export interface VenueCheckRow {
  /** What is checked, e.g. `exchange info`, `mark prices ETHP`. */
  name: string;
  /** The request or feed, e.g. `GET /v2/encryption-key`. */
  target: string;
  ok: boolean;
  /** One line: a short summary of what conformed, or the first problem as `path: message`. */
  detail: string;
  /** The first problem when not ok; `path` is '' for the body or frame as a whole. */
  problem?: WireIssue;
}

export interface VenueCheckReport {
  url: string;
  ws: string;
  deployment: string;
  rows: VenueCheckRow[];
  /** Every row ok. */
  ok: boolean;
  /** One line for a human. */
  verdict: string;
}

/** The realtime API next to a REST base: http→ws, https→wss, path `/realtime-api` (docs realtime connection model). */
export function defaultRealtimeUrl(rest: URL): URL {
  const ws = new URL(rest.href);
  ws.protocol = rest.protocol === 'https:' ? 'wss:' : 'ws:';
  ws.pathname = joinPath(rest, REALTIME_PATH);
  ws.search = '';
  ws.hash = '';
  return ws;
}

/** Probes the venue; resolves to one row per check. Never throws for what the venue does. */
export async function checkVenue(options: VenueCheckOptions): Promise<VenueCheckReport> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deployment = options.deployment ?? DEFAULT_DEPLOYMENT;
  const ws = options.ws ?? defaultRealtimeUrl(options.url);
  const read = (path: string, query: Record<string, string> = {}) => restTarget(options.url, path, query);

  const deploymentTarget = read(PATHS.deploymentInfo, { contractDeployment: deployment });
  const exchangeTarget = read(PATHS.exchangeInfo);
  const keyTarget = read(PATHS.encryptionKey);
  const [deploymentRow, exchange, keyRow] = await Promise.all([
    checkRead('deployment info', deploymentTarget, deploymentInfoSchema, timeoutMs, (info) => {
      return `chainId ${info.chainId}, DerivaDEX ${info.addresses.derivaDEXAddress}`;
    }),
    checkExchangeInfo(exchangeTarget, timeoutMs),
    checkRead('encryption key', keyTarget, encryptionKeySchema, timeoutMs, (key) => `${key.slice(0, 6)}…${key.slice(-4)}`),
  ]);

  const symbols = options.symbols && options.symbols.length > 0 ? [...options.symbols] : exchange.symbols;
  const markRows =
    symbols.length > 0
      ? symbols.map((symbol) => checkMarkPrices(symbol, read(PATHS.markPrices, { symbol, order: 'desc', limit: '1' }), timeoutMs))
      : [Promise.resolve(noSymbolRow(read(PATHS.markPrices, { order: 'desc', limit: '1' })))];
  const [marks, realtime] = await Promise.all([Promise.all(markRows), checkRealtime(ws, symbols, timeoutMs)]);

  const rows = [deploymentRow, exchange.row, keyRow, ...marks, ...realtime];
  const failed = rows.filter((r) => !r.ok);
  const verdict =
    failed.length === 0
      ? `venue conforms: all ${rows.length} checks OK`
      : `venue does NOT conform: ${failed.length} of ${rows.length} checks failed (${failed.map((r) => r.name).join(', ')})`;
  return { url: options.url.href, ws: ws.href, deployment, rows, ok: failed.length === 0, verdict };
}

// ── rows ────────────────────────────────────────────────────────────────────────────────────────

interface Target {
  url: URL;
  /** As printed: `GET /exchange/api/v1/exchange_info`. */
  label: string;
}

function restTarget(base: URL, path: string, query: Record<string, string>): Target {
  const url = new URL(base.href);
  url.pathname = joinPath(base, path);
  url.search = new URLSearchParams(query).toString();
  url.hash = '';
  return { url, label: `GET ${url.pathname}${url.search}` };
}

/** A base with a path (a gateway behind a proxy prefix) keeps it. */
function joinPath(base: URL, path: string): string {
  return `${base.pathname.replace(/\/+$/, '')}${path}`;
}

function okRow(name: string, target: string, detail: string): VenueCheckRow {
  return { name, target, ok: true, detail };
}

function failRow(name: string, target: string, problem: WireIssue): VenueCheckRow {
  return { name, target, ok: false, detail: formatProblem(problem), problem };
}

/** `value.symbols[0].kind: expected string, received undefined`; a problem with the whole body or frame has no path. */
export function formatProblem(problem: WireIssue): string {
  return problem.path === '' ? problem.message : `${problem.path}: ${problem.message}`;
}

/** zod's "Invalid input: expected string, received number" → "expected string, received number". */
function cleanIssue(issue: WireIssue): WireIssue {
  return { path: issue.path, message: issue.message.replace(/^Invalid input: /, '') };
}

async function checkRead<S extends z.ZodType>(
  name: string,
  target: Target,
  schema: S,
  timeoutMs: number,
  summary: (value: z.output<S>) => string,
): Promise<VenueCheckRow> {
  const body = await getJson(target.url, timeoutMs);
  if (!body.ok) return failRow(name, target.label, body.issue);
  const parsed = parseWire(schema, body.value);
  if (!parsed.ok) return failRow(name, target.label, cleanIssue(parsed.issue));
  return okRow(name, target.label, summary(parsed.value));
}

/** `exchange_info` (enveloped `ExchangeInfo`, SDK `models/system.py`), and the symbols to ask marks for. */
async function checkExchangeInfo(target: Target, timeoutMs: number): Promise<{ row: VenueCheckRow; symbols: string[] }> {
  const name = 'exchange info';
  const body = await getJson(target.url, timeoutMs);
  if (!body.ok) return { row: failRow(name, target.label, body.issue), symbols: [] };
  const parsed = parseWire(exchangeInfoBodySchema, body.value);
  if (!parsed.ok) {
    // The other checks still deserve their symbols when only this body is wrong (e.g. no `kind`).
    return { row: failRow(name, target.label, cleanIssue(parsed.issue)), symbols: looseSymbols(body.value) };
  }
  const symbols = parsed.value.value.symbols.map((s) => s.symbol);
  const listed = symbols.length === 0 ? 'no symbols' : `${symbols.length} symbol${symbols.length === 1 ? '' : 's'}: ${symbols.join(', ')}`;
  return { row: okRow(name, target.label, listed), symbols };
}

/** `value.symbols[i].symbol` strings of a body that did not validate as a whole. */
function looseSymbols(body: unknown): string[] {
  const value = isRecord(body) ? body.value : undefined;
  const list = isRecord(value) ? value.symbols : undefined;
  if (!Array.isArray(list)) return [];
  return list.flatMap((entry: unknown) =>
    isRecord(entry) && typeof entry.symbol === 'string' && entry.symbol !== '' ? [entry.symbol] : [],
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The newest mark of one symbol: `mark_prices?symbol=S&order=desc&limit=1` (docs/derivadex-sources.md §10.13; SDK `MarkPriceEntry`). */
async function checkMarkPrices(symbol: string, target: Target, timeoutMs: number): Promise<VenueCheckRow> {
  const name = `mark prices ${symbol}`;
  const body = await getJson(target.url, timeoutMs);
  if (!body.ok) return failRow(name, target.label, body.issue);
  const parsed = parseWire(markPricesPageSchema, body.value);
  if (!parsed.ok) return failRow(name, target.label, cleanIssue(parsed.issue));
  const rows = parsed.value.value;
  // `symbol` filters the page: a row of another symbol means the venue ignored the query.
  const stray = rows.findIndex((r) => r.symbol !== symbol);
  if (stray >= 0) {
    return failRow(name, target.label, {
      path: `value[${stray}].symbol`,
      message: `expected ${JSON.stringify(symbol)} (the symbol asked for), got ${JSON.stringify(rows[stray]!.symbol)}`,
    });
  }
  if (rows.length > 1)
    return failRow(name, target.label, { path: 'value', message: `expected at most 1 row (limit=1), got ${rows.length}` });
  const newest = rows[0];
  return okRow(
    name,
    target.label,
    newest === undefined ? 'no mark yet' : `${newest.symbol} ${newest.price} (globalOrdinal ${newest.globalOrdinal})`,
  );
}

function noSymbolRow(target: Target): VenueCheckRow {
  return failRow('mark prices', target.label, {
    path: '',
    message: 'not checked: exchange info listed no symbol to ask for (give --symbol)',
  });
}

// ── REST transport ──────────────────────────────────────────────────────────────────────────────

type JsonRead = { ok: true; value: unknown } | { ok: false; issue: WireIssue };

/** A GET with a deadline; every failure becomes an issue with an empty path (the body as a whole). */
async function getJson(url: URL, timeoutMs: number): Promise<JsonRead> {
  let status: number;
  let statusText: string;
  let text: string;
  try {
    const response = await fetch(url, { method: 'GET', headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
    status = response.status;
    statusText = response.statusText;
    text = await response.text();
  } catch (error) {
    return { ok: false, issue: { path: '', message: transportProblem(error, timeoutMs) } };
  }
  if (status < 200 || status > 299) {
    const excerpt = snippet(text);
    return {
      ok: false,
      issue: { path: '', message: `HTTP ${status}${statusText ? ` ${statusText}` : ''}${excerpt ? `: ${excerpt}` : ''}` },
    };
  }
  const json = parseJson(text);
  if (!json.ok)
    return { ok: false, issue: { path: '', message: `body is not valid JSON${text ? ` (starts ${snippet(text)})` : ' (empty)'}` } };
  return json;
}

/** Why a request got no answer: `cannot connect: ECONNREFUSED`, `no answer within 10000 ms`. */
function transportProblem(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `no answer within ${timeoutMs} ms`;
  // fetch wraps the socket's error: `TypeError: fetch failed` with the errno error (or an AggregateError) as cause.
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error) return `cannot connect: ${describeError(cause)}`;
  return `cannot connect: ${error instanceof Error ? describeError(error) : String(error)}`;
}

/** A body excerpt for a message: one line, at most 80 characters, quoted. */
function snippet(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if (line === '') return '';
  return JSON.stringify(line.length > 80 ? `${line.slice(0, 80)}…` : line);
}

// ── realtime ────────────────────────────────────────────────────────────────────────────────────

type Outcome = { ok: true; detail: string } | { ok: false; issue: WireIssue };

/**
 * SUBSCRIBE to MARK_PRICE and wait for the acknowledgement (SDK `AcknowledgePayload`: only `result`
 * required; success = `result.error` absent or null) and the first MARK_PRICE message (SDK
 * `MarkPricePayload`), both within `timeoutMs`. Either may come first.
 */
function checkRealtime(url: URL, symbols: readonly string[], timeoutMs: number): Promise<VenueCheckRow[]> {
  const ackName = 'subscribe ack';
  const frameName = 'mark price feed';
  const ackTarget = `WS ${url.pathname} SUBSCRIBE MARK_PRICE`;
  const frameTarget = `WS ${url.pathname} MARK_PRICE`;
  // MARK_PRICE `symbols` omitted = every symbol (SDK `MarkPriceParams`).
  const subscribe: SubscribeMessage = {
    action: 'SUBSCRIBE',
    nonce: SUBSCRIBE_NONCE,
    feeds: [{ feed: 'MARK_PRICE', params: symbols.length > 0 ? { symbols: [...symbols] } : {} }],
  };

  return new Promise((resolve) => {
    let ack: Outcome | undefined;
    let frame: Outcome | undefined;
    /** Why an undecided check failed when the wait ends early (connection refused, closed). */
    let ended: ((waitedFor: string) => string) | undefined;
    let done = false;

    let socket: WebSocket;
    try {
      socket = new WebSocket(url, { handshakeTimeout: timeoutMs });
    } catch (error) {
      const issue = { path: '', message: `cannot connect: ${error instanceof Error ? error.message : String(error)}` };
      resolve([failRow(ackName, ackTarget, issue), failRow(frameName, frameTarget, issue)]);
      return;
    }

    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.terminate();
      const rowOf = (name: string, target: string, outcome: Outcome | undefined, waitedFor: string): VenueCheckRow => {
        if (outcome === undefined) {
          return failRow(name, target, { path: '', message: ended ? ended(waitedFor) : `no ${waitedFor} within ${timeoutMs} ms` });
        }
        return outcome.ok ? okRow(name, target, outcome.detail) : failRow(name, target, outcome.issue);
      };
      resolve([rowOf(ackName, ackTarget, ack, 'acknowledgement'), rowOf(frameName, frameTarget, frame, 'MARK_PRICE message')]);
    };
    const settle = (): void => {
      if (ack !== undefined && frame !== undefined) finish();
    };
    const timer = setTimeout(finish, timeoutMs);

    let opened = false;
    socket.on('open', () => {
      opened = true;
      socket.send(JSON.stringify(subscribe));
    });
    socket.on('error', (error) => {
      const why = `${opened ? 'connection failed' : 'cannot connect'}: ${describeError(error)}`;
      ended ??= () => why;
      finish();
    });
    socket.on('close', (code) => {
      ended ??= (waitedFor) => `connection closed (code ${code}) before any ${waitedFor}`;
      finish();
    });
    socket.on('message', (raw: RawFrame, isBinary: boolean) => {
      const route = routeOf(raw, isBinary);
      if (route === 'ack' || (route === 'unknown' && ack === undefined)) {
        if (ack !== undefined) return; // one SUBSCRIBE, one acknowledgement: later ones are not ours to judge
        ack = judgeAck(raw, isBinary);
        // A refused subscription will bring no frame: say so rather than wait for the deadline.
        if (ack.ok === false && frame === undefined && ack.issue.path === 'result.error') {
          frame = { ok: false, issue: { path: '', message: 'not checked: the SUBSCRIBE was refused' } };
        }
      } else if (frame === undefined) {
        const outcome = judgeFrame(raw, isBinary);
        if (outcome !== undefined) frame = outcome;
      }
      settle();
    });
  });
}

/** A refused connection is an errno error, or an AggregateError of them (`localhost`: IPv4 and IPv6). */
function describeError(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code) return code;
  if (error instanceof AggregateError && error.errors.length > 0) {
    const first: unknown = error.errors[0];
    if (first instanceof Error) return (first as NodeJS.ErrnoException).code ?? first.message;
  }
  return error.message || error.name;
}

/** A feed message has `feed` (docs realtime examples); anything else JSON is taken for the acknowledgement. */
function routeOf(raw: RawFrame, isBinary: boolean): 'ack' | 'feed' | 'unknown' {
  if (isBinary) return 'unknown';
  const json = parseJson(frameText(raw));
  if (!json.ok || !isRecord(json.value)) return 'unknown';
  return Object.hasOwn(json.value, 'feed') ? 'feed' : 'ack';
}

function frameText(raw: RawFrame): string {
  if (typeof raw === 'string') return raw;
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8');
  return (Buffer.isBuffer(raw) ? raw : Buffer.from(raw)).toString('utf8');
}

function judgeAck(raw: RawFrame, isBinary: boolean): Outcome {
  const parsed = parseFrame(raw, isBinary);
  if (!parsed.ok && parsed.error.code !== 'bad-shape')
    return { ok: false, issue: { path: parsed.error.path, message: parsed.error.message } };
  if (parsed.ok && parsed.frame.kind === 'ack') return ackOutcome(parsed.frame.ack);
  // Not recognised as an acknowledgement (e.g. no `result`): name what the acknowledgement schema misses.
  const json = parseJson(frameText(raw));
  const checked = parseWire(ackSchema, json.ok ? json.value : undefined);
  if (checked.ok) return ackOutcome(checked.value);
  return { ok: false, issue: cleanIssue(checked.issue) };
}

function ackOutcome(ack: z.output<typeof ackSchema>): Outcome {
  if (ack.result.error !== undefined && ack.result.error !== null) {
    return { ok: false, issue: { path: 'result.error', message: `subscription refused: ${JSON.stringify(ack.result.error)}` } };
  }
  if (ack.nonce !== undefined && ack.nonce !== null && ack.nonce !== SUBSCRIBE_NONCE) {
    return {
      ok: false,
      issue: { path: 'nonce', message: `expected ${JSON.stringify(SUBSCRIBE_NONCE)} (the SUBSCRIBE's), got ${JSON.stringify(ack.nonce)}` },
    };
  }
  return { ok: true, detail: ack.result.error === null ? 'result {"error": null}' : 'result {}' };
}

/** The first MARK_PRICE message decides; messages of other feeds are not this check's business. */
function judgeFrame(raw: RawFrame, isBinary: boolean): Outcome | undefined {
  const parsed = parseFrame(raw, isBinary);
  if (!parsed.ok) {
    // A message of another feed we do not model is not ours to judge; a broken MARK_PRICE one is.
    if (parsed.error.code === 'unknown-feed') return undefined;
    return { ok: false, issue: cleanIssue({ path: parsed.error.path, message: parsed.error.message }) };
  }
  if (parsed.frame.kind !== 'feed' || parsed.frame.message.feed !== 'MARK_PRICE') return undefined;
  const { contents } = parsed.frame.message;
  const marks = contents.data.map((row) => `${row.symbol} ${row.price}`);
  return {
    ok: true,
    detail: `${contents.messageType}, ${marks.length} row${marks.length === 1 ? '' : 's'}${marks.length ? `: ${marks.join(', ')}` : ''}`,
  };
}
