import type { Registry } from 'prom-client';
import type { ExtraRoutes } from '../api/api-server.ts';
import { dashboardRoutes } from '../dashboard/static-files.ts';
import { metricsRoute } from '../observability/metrics-route.ts';
import { chainRoutes } from './chain-routes.ts';

/**
 * The routes every riskwarden API serves beside its own: the caller's first, then the dashboard's files,
 * then `/metrics` when a registry is given (the live supervisor has one; a scenario run does not).
 */
export function operatorRoutes(options: { extra?: ExtraRoutes | undefined; metrics?: Registry }): ExtraRoutes {
  return chainRoutes(
    ...(options.extra ? [options.extra] : []),
    dashboardRoutes(),
    ...(options.metrics ? [metricsRoute(options.metrics)] : []),
  );
}
