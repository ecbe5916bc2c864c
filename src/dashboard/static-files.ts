import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ACCOUNT_MODES } from '../domain/assessment.ts';
import { ORDER_STATUSES, TERMINAL_STATUSES } from '../domain/order-status.ts';

/** The folder the dashboard's files live in (no build step: they are served as written). */
export const DASHBOARD_DIR = fileURLToPath(new URL('./static/', import.meta.url));

export interface DashboardFile {
  file: string;
  type: string;
}

/** What the page is made of, by extension; the type declarations and the tsconfig beside it are not served. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/**
 * The files of a dashboard folder by URL path, listed once: `/` is the page, every module, style sheet
 * and page of the folder is `/<name>`. A fixed table rather than a lookup per request: no request path
 * ever reaches the file system, so `..`, encoded slashes and symlinks cannot lead anywhere else. Only
 * plain files with plain lower-case names count (no folders, no symlinks, no dot-files).
 */
export function listDashboardFiles(dir: string): Readonly<Record<string, DashboardFile>> {
  const files: Record<string, DashboardFile> = {};
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const type = CONTENT_TYPES[extname(entry.name)];
    if (!entry.isFile() || type === undefined || !/^[a-z0-9][a-z0-9.-]*$/.test(entry.name)) continue;
    files[`/${entry.name}`] = { file: entry.name, type };
  }
  if (files['/index.html']) files['/'] = files['/index.html'];
  return Object.freeze(files);
}

/** The dashboard's files by URL path, as the folder held them at start-up. */
export const DASHBOARD_FILES = listDashboardFiles(DASHBOARD_DIR);

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

/** The path of the one module the server writes rather than reads: the domain's vocabulary for the page. */
export const VOCABULARY_PATH = '/vocabulary.js';

/**
 * `/vocabulary.js`: the account states and order statuses exactly as `src/domain/` defines them, so the
 * browser never keeps a copy of its own (`vocabulary.d.ts` beside the modules types it for the checker).
 */
export const VOCABULARY_MODULE = Buffer.from(
  [
    '// Written by the server from src/domain/: the one definition of these names.',
    `export const ACCOUNT_MODES = Object.freeze(${JSON.stringify(ACCOUNT_MODES)});`,
    `export const ORDER_STATUSES = Object.freeze(${JSON.stringify(ORDER_STATUSES)});`,
    `export const TERMINAL_STATUSES = Object.freeze(${JSON.stringify(TERMINAL_STATUSES)});`,
    '',
  ].join('\n'),
);

export interface DashboardRoutesOptions {
  /** Another folder with the same files as the dashboard's (tests, a customised dashboard). */
  dir?: string;
}

/**
 * The `extraRoutes` handler of the API server: serves `/` and the dashboard's files (its page, its ES
 * modules, its style sheet: `DASHBOARD_FILES`) and answers `false` for every other path. Authentication
 * is the API server's: it decides before calling this. Files are read on each request, so an edited file
 * shows on reload (a new one after a restart); they are a few kilobytes.
 */
export function dashboardRoutes(options: DashboardRoutesOptions = {}): ExtraRoute {
  const dir = options.dir ?? DASHBOARD_DIR;
  return (req, res) => {
    const path = requestPath(req.url);
    const generated = path === VOCABULARY_PATH;
    const entry = generated
      ? { file: 'vocabulary.js', type: CONTENT_TYPES['.js']! }
      : path === null
        ? undefined
        : Object.hasOwn(DASHBOARD_FILES, path)
          ? DASHBOARD_FILES[path]
          : undefined;
    if (!entry) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ error: `${req.method ?? 'request'} ${path}: the dashboard's files are read with GET` }));
      return true;
    }
    (generated ? Promise.resolve(VOCABULARY_MODULE) : readFile(join(dir, entry.file))).then(
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
