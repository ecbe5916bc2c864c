import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_DIR, DASHBOARD_FILES, dashboardRoutes, listDashboardFiles, VOCABULARY_PATH } from '../../src/dashboard/static-files.ts';
import { ACCOUNT_MODES } from '../../src/domain/assessment.ts';
import { ORDER_STATUSES, TERMINAL_STATUSES } from '../../src/domain/order-status.ts';

/**
 * Every module the page loads: app.js and what it imports, transitively (static and dynamic imports; a
 * type in a JSDoc comment is no import). Read from the sources, so a new module is covered by itself.
 */
function moduleGraph(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (name: string): void => {
    // `/vocabulary.js` is written by the server (tested below), not a file of the folder.
    if (seen.has(name) || `/${name}` === VOCABULARY_PATH) return;
    seen.add(name);
    const { importedFiles } = ts.preProcessFile(readFileSync(join(DASHBOARD_DIR, name), 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      // The page imports by relative URL only (no bare specifiers: there is no bundler to resolve them).
      if (!/^\.\/[a-z0-9-]+\.js$/.test(fileName)) throw new Error(`${name} imports ${fileName}: the page imports ./<module>.js only`);
      visit(fileName.slice(2));
    }
  };
  visit(entry);
  return [...seen].sort();
}

const MODULES = moduleGraph('app.js');

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

let server: Server;
let port: number;

/** A raw request: the path goes on the wire exactly as written (no URL normalisation by a client). */
function get(path: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  const routes = dashboardRoutes();
  // As the API server uses it: the dashboard answers its paths, everything else falls through to a 404.
  server = createServer((req, res) => {
    if (routes(req, res)) return;
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'fell through' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('dashboardRoutes', () => {
  it.each([
    ['/', 'index.html', 'text/html; charset=utf-8'],
    ['/?anything=1', 'index.html', 'text/html; charset=utf-8'],
    ['/app.js', 'app.js', 'text/javascript; charset=utf-8'],
    ['/style.css', 'style.css', 'text/css; charset=utf-8'],
  ])('serves %s as %s with its content type and no caching', async (path, file, type) => {
    const reply = await get(path);
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe(type);
    expect(reply.headers['cache-control']).toBe('no-store');
    expect(reply.headers['x-content-type-options']).toBe('nosniff');
    expect(reply.body).toBe(readFileSync(join(DASHBOARD_DIR, file), 'utf8'));
  });

  it('writes /vocabulary.js from the domain: the page keeps no copy of the states and statuses', async () => {
    const reply = await get('/vocabulary.js');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('text/javascript; charset=utf-8');
    const module = await import(`data:text/javascript,${encodeURIComponent(reply.body)}`);
    expect(module.ACCOUNT_MODES).toEqual(ACCOUNT_MODES);
    expect(module.ORDER_STATUSES).toEqual(ORDER_STATUSES);
    expect(module.TERMINAL_STATUSES).toEqual(TERMINAL_STATUSES);
  });

  it('sends the page with a policy that keeps it on its own origin', async () => {
    const csp = String((await get('/')).headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
  });

  it('answers HEAD without a body', async () => {
    const reply = await get('/app.js', 'HEAD');
    expect(reply.status).toBe(200);
    expect(reply.body).toBe('');
    expect(Number(reply.headers['content-length'])).toBe(readFileSync(join(DASHBOARD_DIR, 'app.js')).length);
  });

  it('refuses other methods on its paths with 405 and Allow', async () => {
    const reply = await get('/app.js', 'POST');
    expect(reply.status).toBe(405);
    expect(reply.headers.allow).toBe('GET, HEAD');
    expect(reply.headers['content-type']).toContain('application/json');
  });

  it.each([
    '/../package.json',
    '/%2e%2e/package.json',
    '/..%2fpackage.json',
    '/static-files.ts',
    '/static/app.js',
    '/app.js/',
    '/app.js/../../../package.json',
    '//app.js',
    '/APP.JS',
    '/index.html/..',
    '/axis-ticks.d.ts',
    '/tsconfig.json',
    '/%2fetc%2fpasswd',
    '/.gitignore',
    '/api/v1/fleet',
    '/favicon.ico',
  ])('does not answer %s (no directory traversal, no other files)', async (path) => {
    const reply = await get(path);
    expect(reply.status).toBe(404);
    expect(JSON.parse(reply.body)).toEqual({ error: 'fell through' });
  });

  it('loads more than the entry: the page is split into modules', () => {
    expect(MODULES).toEqual(expect.arrayContaining(['app.js', 'axis-ticks.js', 'fleet-table.js', 'live-socket.js']));
  });

  it.each(MODULES)('serves the module %s (imported from app.js) as JavaScript', async (name) => {
    const reply = await get(`/${name}`);
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(reply.headers['cache-control']).toBe('no-store');
    expect(reply.headers['x-content-type-options']).toBe('nosniff');
    expect(reply.headers['referrer-policy']).toBe('no-referrer');
    expect(reply.body).toBe(readFileSync(join(DASHBOARD_DIR, name), 'utf8'));
  });

  it('lists plain files of the page only: no declarations, configs, folders, symlinks, dot-files or odd names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'riskwarden-dashboard-'));
    try {
      const names = ['index.html', 'app.js', 'chart.js', 'style.css', 'chart.d.ts', 'tsconfig.json', '.hidden.js', 'Upper.js', 'notes.txt'];
      for (const name of names) writeFileSync(join(dir, name), '');
      mkdirSync(join(dir, 'nested.js'));
      symlinkSync('/etc/passwd', join(dir, 'passwd.js'));
      expect(Object.keys(listDashboardFiles(dir)).sort()).toEqual(['/', '/app.js', '/chart.js', '/index.html', '/style.css']);
      expect(listDashboardFiles(dir)['/']).toEqual({ file: 'index.html', type: 'text/html; charset=utf-8' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(Object.keys(DASHBOARD_FILES)).toEqual(expect.arrayContaining(MODULES.map((name) => `/${name}`)));
  });

  it('reports a missing file by name instead of crashing', async () => {
    const routes = dashboardRoutes({ dir: '/nonexistent-riskwarden-dashboard' });
    const broken = createServer((req, res) => {
      if (!routes(req, res)) res.end('fell through');
    });
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    try {
      const reply = await new Promise<Reply>((resolve, reject) => {
        request({ host: '127.0.0.1', port: (broken.address() as AddressInfo).port, path: '/style.css' }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        })
          .on('error', reject)
          .end();
      });
      expect(reply.status).toBe(500);
      expect(JSON.parse(reply.body).error).toBe('dashboard file style.css could not be read: ENOENT');
    } finally {
      await new Promise<void>((resolve) => broken.close(() => resolve()));
    }
  });
});
