import { EventEmitter } from 'node:events';
import { topState } from '../../machines/snapshot-state.ts';
import type { FleetConfig } from '../config/fleet-schema.ts';
import { formatProblems, loadConfigFile, parseConfigDocument } from '../config/load.ts';
import type { OrderIntent } from '../domain/order.ts';
import { startLiveFleet, type LiveFleet } from './live-fleet.ts';
import type { TimelineRecord } from '../timeline/timeline-record.ts';

type RecordOf<K extends TimelineRecord['kind']> = Extract<TimelineRecord, { kind: K }>;

/** What a strategy can listen to (each a timeline record, docs/contracts.md#timeline). */
export interface RiskLayerEvents {
  /** Every decision on an order the strategy asked for. */
  decision: [RecordOf<'decision'>];
  /** The account moved between trading, entries-blocked, de-risking, panic-exit and stopped-out. */
  state: [RecordOf<'state'>];
  /** An order reached the venue: the strategy's own, or the risk layer's `reduce` / `exit`. */
  order: [RecordOf<'order'>];
  'order-update': [RecordOf<'order-update'>];
  /** A de-risking action of the risk layer: a `reduce` or `exit` order. */
  'de-risk': [RecordOf<'order'>];
  stopout: [RecordOf<'stopout'>];
  mark: [RecordOf<'mark'>];
  risk: [RecordOf<'risk'>];
  /** Anything worth knowing that is not a record (which venue, which store). */
  note: [string];
}

export interface RiskLayerOptions {
  /** A fleet config file, or the config as an object (validated either way). */
  config: string | unknown;
  /** Shared Redis (default: REDIS_URL, then the config's redis.url; none: an in-memory store). */
  redis?: string;
  env?: Record<string, string | undefined>;
}

/** Thrown for an invalid config, with every problem by its path. */
export class RiskLayerConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid fleet config:\n${problems.join('\n')}`);
    this.name = 'RiskLayerConfigError';
  }
}

/**
 * The risk layer in the strategy's own process. Ask it before every entry: `submit` passes the order
 * through the account's pre-trade gate and, when allowed, sends it to the venue; the answer says which
 * rules blocked it otherwise. Listen to `state`, `decision` and `de-risk` to follow what the layer does.
 *
 *   const layer = await createRiskLayer({ config: 'config/fleet.example.yaml' });
 *   const decision = layer.submit('alpha', { symbol: 'ETHP', side: 'buy', amount: '1', type: 'market' });
 *   if (!decision.allowed) console.log('blocked by', decision.rules);
 */
export class RiskLayer extends EventEmitter<RiskLayerEvents> {
  readonly #fleet: LiveFleet;

  constructor(fleet: LiveFleet) {
    super();
    this.#fleet = fleet;
  }

  /** Asks for an order on an account. Synchronous: the gate decides at once. */
  submit(accountId: string, order: OrderIntent): RecordOf<'decision'> {
    if (!this.#fleet.runtime.accountIds().includes(accountId)) throw new Error(`account ${accountId} is not supervised by this process`);
    let decision: RecordOf<'decision'> | undefined;
    const capture = (record: RecordOf<'decision'>): void => {
      if (record.account === accountId && decision === undefined) decision = record;
    };
    this.on('decision', capture);
    try {
      this.#fleet.runtime.requestEntry(accountId, order);
    } finally {
      this.off('decision', capture);
    }
    if (!decision) throw new Error(`account ${accountId} gave no decision`);
    return decision;
  }

  /** The account's top-level state, position and margin buffer now. */
  account(accountId: string): { state: string; position: Record<string, string>; marginBuffer: string | null } | undefined {
    const ref = this.#fleet.runtime.account(accountId);
    const ctx = this.#fleet.runtime.accountContext(accountId);
    if (!ref || !ctx) return undefined;
    return {
      state: topState(ref.getSnapshot().value),
      position: Object.fromEntries(Object.entries(ctx.ledger.positions).map(([s, p]) => [s, p.size])),
      marginBuffer: ctx.metrics?.marginBuffer ?? null,
    };
  }

  accounts(): string[] {
    return this.#fleet.runtime.accountIds();
  }

  async close(): Promise<void> {
    await this.#fleet.close();
    this.removeAllListeners();
  }

  /** @internal the record fan-out. */
  dispatch(record: TimelineRecord): void {
    // Each record goes out under its own kind (summary records have no listener type and are skipped).
    (this.emit as (event: string, record: TimelineRecord) => boolean)(record.kind, record);
    if (record.kind === 'order' && (record.purpose === 'reduce' || record.purpose === 'exit')) this.emit('de-risk', record);
  }
}

/** Starts the risk layer for a fleet (the local simulator unless the config names a venue). */
export async function createRiskLayer(options: RiskLayerOptions): Promise<RiskLayer> {
  const loaded =
    typeof options.config === 'string'
      ? await loadConfigFile(options.config, { expect: 'fleet' })
      : parseConfigDocument(options.config, { expect: 'fleet' });
  if (!loaded.ok) throw new RiskLayerConfigError(formatProblems(loaded.problems));
  let layer: RiskLayer | undefined;
  const early: TimelineRecord[] = [];
  const fleet = await startLiveFleet({
    config: loaded.value as FleetConfig,
    ...(options.redis ? { redis: options.redis } : {}),
    ...(options.env ? { env: options.env } : {}),
    onRecord: (record) => (layer ? layer.dispatch(record) : early.push(record)),
    onNote: (message) => layer?.emit('note', message),
  });
  layer = new RiskLayer(fleet);
  for (const record of early) layer.dispatch(record);
  return layer;
}
