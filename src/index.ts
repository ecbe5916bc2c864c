/**
 * riskwarden as a library: run the risk layer inside a strategy's own process.
 * See README "Use it from your strategy" and examples/ma-crossover-bot.ts.
 */
export { createRiskLayer, RiskLayer, RiskLayerConfigError, type RiskLayerEvents, type RiskLayerOptions } from './app/risk-layer.ts';
export type { OrderIntent, OrderPurpose, Side, OrderType } from './domain/order.ts';
export type { TimelineRecord } from './timeline/timeline-record.ts';
export type { AccountMode } from './domain/assessment.ts';
export { runScenario, type ScenarioRunOptions } from './scenario/scenario-runner.ts';
