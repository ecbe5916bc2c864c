import type { ServerResponse } from 'node:http';
import type { ErrorResponse } from './api-types.ts';

/** Headers every API answer carries: nothing is cached, nothing is sniffed. */
const COMMON_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' } as const;

/** Writes `body` as JSON with `status` (once: a response already sent is left alone). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.writableEnded) return;
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    ...COMMON_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** An ErrorResponse: `{ error, problems? }`. */
export function sendError(
  res: ServerResponse,
  status: number,
  error: string,
  options: { problems?: string[]; headers?: Record<string, string> } = {},
): void {
  const body: ErrorResponse = { error, ...(options.problems && options.problems.length > 0 ? { problems: options.problems } : {}) };
  sendJson(res, status, body, options.headers);
}

/** Writes a text body (an SVG, say) with its content type. */
export function sendText(res: ServerResponse, status: number, contentType: string, text: string): void {
  if (res.headersSent || res.writableEnded) return;
  res.writeHead(status, { ...COMMON_HEADERS, 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
