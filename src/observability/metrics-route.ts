import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { scrubText } from './secret-scrubber.ts';

/**
 * `GET /metrics` for an HTTP server that takes extra routes (`startApiServer({ extraRoutes })`): answers
 * with the Prometheus text format (`text/plain; version=0.0.4`) and returns true; returns false for any
 * other path so the server's own routes run. Other methods on /metrics get 405. No authentication: bind
 * the server where only the scraper reaches it, or put the route behind the server's own check.
 */
export function metricsRoute(registry: Registry): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end('method not allowed\n');
      return true;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (error: Error) => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`metrics: ${scrubText(error.message)}\n`);
      },
    );
    return true;
  };
}
