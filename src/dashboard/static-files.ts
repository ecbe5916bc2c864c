import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder the dashboard's files live in (no build step: they are served as written). */
export const DASHBOARD_DIR = fileURLToPath(new URL('./static/', import.meta.url));

/**
 * The dashboard's files by URL path. A fixed table rather than a folder lookup: no request path ever
 * reaches the file system, so `..`, encoded slashes and symlinks cannot lead anywhere else.
 */
export const DASHBOARD_FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

/**
 * What the page may load: only its own origin (the API and its WebSocket included), no inline script,
 * no frames. The statechart SVG is inserted as DOM, so it is covered by the same policy.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export type ExtraRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface DashboardRoutesOptions {
  /** Another folder with the same three files (tests, a customised dashboard). */
  dir?: string;
}

/**
 * The `extraRoutes` handler of the API server: serves `/`, `/app.js` and `/style.css` and answers
 * `false` for every other path. Authentication is the API server's: it decides before calling this.
 * Files are read on each request, so an edited file shows on reload; they are a few kilobytes.
 */
export function dashboardRoutes(options: DashboardRoutesOptions = {}): ExtraRoute {
  const dir = options.dir ?? DASHBOARD_DIR;
  return (req, res) => {
    const path = requestPath(req.url);
    const entry = path === null ? undefined : Object.hasOwn(DASHBOARD_FILES, path) ? DASHBOARD_FILES[path] : undefined;
    if (!entry) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ error: `${req.method ?? 'request'} ${path}: the dashboard's files are read with GET` }));
      return true;
    }
    readFile(join(dir, entry.file)).then(
      (body) => {
        res.writeHead(200, {
          'content-type': entry.type,
          'content-length': body.length,
          'cache-control': 'no-store',
          'x-content-type-options': 'nosniff',
          'referrer-policy': 'no-referrer',
          ...(entry.type.startsWith('text/html') ? { 'content-security-policy': DASHBOARD_CSP } : {}),
        });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (error: NodeJS.ErrnoException) => {
        res.writeHead(500, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
        res.end(JSON.stringify({ error: `dashboard file ${entry.file} could not be read: ${error.code ?? error.message}` }));
      },
    );
    return true;
  };
}

/** The path of a request target without its query; null when it is not an origin-form path. */
function requestPath(url: string | undefined): string | null {
  if (url === undefined || !url.startsWith('/')) return null;
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}
