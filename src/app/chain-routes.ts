import type { ExtraRoutes } from '../api/api-server.ts';

/** Several extra route handlers as one: the first that answers wins. */
export function chainRoutes(...routes: ExtraRoutes[]): ExtraRoutes {
  return (req, res, caller) => routes.some((route) => route(req, res, caller));
}
