import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { wallClock } from '../../src/clock/clock.ts';
import { strategyIdHash } from '../../src/derivadex/crypto/bytes32.ts';
import type { OrderUpdateHistoryRow } from '../../src/derivadex/order-update.ts';
import { dec, str } from '../../src/domain/decimal.ts';
import type { OrderIntent } from '../../src/domain/order.ts';
import { StatusBoard, type AccountStatus } from '../../src/store/status-board.ts';
import { VenueClient } from '../../src/venue/venue-client.ts';
import { startRedisProcess, type RedisProcess } from '../../test/harness/redis-process.ts';
import { TcpFaultProxy } from '../../test/harness/tcp-fault-proxy.ts';
import { checkOrderLog, type OrderLogReport } from '../../test/harness/venue-order-log.ts';
import { untilOr } from './waiting.ts';
import { LiveVenue } from '../../test/supervisor/live-venue.ts';
import { SupervisorProcess } from '../../test/supervisor/supervisor-process.ts';

/*
 * The live rig of the multi-process campaigns: one exchange simulator hosted here on real sockets, one
 * private redis-server (or a Sentinel group, given as a target), and N `riskwarden run` processes sharing
 * both. Each process has its own config file, so each may reach the venue and Redis through a fault proxy
 * of its own (a partition of one process cuts only its paths).
 *
 * What the campaigns judge comes from the venue's order log (checkOrderLog) and from Redis, never from
 * what a process says: the rig only gives access to both.
 */

export interface RigAccount {
  id: string;
  collateral: string;
}

export interface RigOptions {
  accounts: RigAccount[];
  /** Fleet document parts besides venue, redis and accounts (defaults, portfolios …). */
  fleet: Record<string, unknown>;
  processes: number;
  /** Put a TcpFaultProxy between each process and the venue, and each process and Redis. */
  proxied?: boolean;
  /** `--lease-ttl` (default 1s). */
  leaseTtl?: string;
  /** The fleet's redis block besides prefix (failClosedAfter …); with `sentinels`, REDIS_URL is cleared. */
  redisConfig?: Record<string, unknown>;
  /** Redis the processes use instead of a private one (with `redisConfig.sentinels`: the group's first master). */
  redis?: RedisProcess;
  /** The campaign's own client (default: straight to `redis`); a Sentinel group gives one that follows the master. */
  connectStore?: () => Redis;
  /** The simulator's own market maker; `levels: 0` leaves the book to the campaign's maker (reductions rest). */
  liquidity?: { depth: string; levels: number; spreadTicks: number };
  log: (line: string) => void;
}

export interface RiskOrder {
  orderHash: string;
  side: 'buy' | 'sell';
  price: string;
  /** Amount not yet filled. */
  remaining: string;
}

export interface Slot {
  index: number;
  process: SupervisorProcess | undefined;
  venueProxy: TcpFaultProxy | undefined;
  redisProxy: TcpFaultProxy | undefined;
  /** How many processes this slot has run. */
  generation: number;
}

const PREFIX = 'torture';
/** Every process's API admin token (the campaigns act through it as an operator would). */
const ADMIN_TOKEN = 'torture-admin-token';

export class LiveRig {
  readonly venue: LiveVenue;
  readonly redis: RedisProcess;
  readonly slots: Slot[];
  readonly prefix = PREFIX;
  readonly accounts: string[];
  readonly #options: RigOptions;
  readonly #dir: string;
  readonly #ownsRedis: boolean;
  #client: Redis;
  #external: VenueClient | undefined;
  readonly #externalHashes = new Set<string>();
  #externalSeq = 0;
  readonly #exited: string[] = [];

  private constructor(options: RigOptions, venue: LiveVenue, redis: RedisProcess, ownsRedis: boolean, dir: string) {
    this.#options = options;
    this.venue = venue;
    this.redis = redis;
    this.#ownsRedis = ownsRedis;
    this.#dir = dir;
    this.accounts = options.accounts.map((a) => a.id);
    this.slots = Array.from({ length: options.processes }, (_, index) => ({
      index,
      process: undefined,
      venueProxy: undefined,
      redisProxy: undefined,
      generation: 0,
    }));
    this.#client = this.#connect();
  }

  static async start(options: RigOptions): Promise<LiveRig> {
    const redis = options.redis ?? (await startRedisProcess());
    const venue = await LiveVenue.start(options.liquidity ? { liquidity: options.liquidity } : {});
    const dir = mkdtempSync(join(tmpdir(), 'riskwarden-torture-'));
    const rig = new LiveRig(options, venue, redis, options.redis === undefined, dir);
    for (const account of options.accounts) venue.deposit(account.id, account.collateral);
    if (options.proxied) {
      const simPort = Number(new URL(venue.sim.url).port);
      for (const slot of rig.slots) {
        slot.venueProxy = await TcpFaultProxy.start({ host: '127.0.0.1', port: simPort });
        slot.redisProxy = await TcpFaultProxy.start({ host: '127.0.0.1', port: redis.port });
      }
    }
    for (const slot of rig.slots) rig.spawn(slot);
    return rig;
  }

  /** A Redis client of the campaign's own (direct, never through a proxy); re-made after a restart. */
  get store(): Redis {
    return this.#client;
  }

  reconnectStore(): void {
    this.#client.disconnect();
    this.#client = this.#connect();
  }

  get board(): StatusBoard {
    return new StatusBoard(this.#client, PREFIX);
  }

  running(): SupervisorProcess[] {
    return this.slots.flatMap((s) => (s.process?.running ? [s.process] : []));
  }

  /** Starts a new `riskwarden run` in the slot (after its previous process died or was killed). */
  spawn(slot: Slot): SupervisorProcess {
    slot.generation += 1;
    const config = join(this.#dir, `fleet-${slot.index}.yaml`);
    const venueUrl = slot.venueProxy ? slot.venueProxy.rewrite(this.venue.sim.url) : this.venue.sim.url;
    const wsUrl = slot.venueProxy ? slot.venueProxy.rewrite(this.venue.sim.wsUrl) : this.venue.sim.wsUrl;
    const redisConfig = this.#options.redisConfig ?? {};
    writeFileSync(
      config,
      stringify({
        ...this.#options.fleet,
        accounts: this.#options.accounts,
        venue: { kind: 'simulator', url: venueUrl, wsUrl },
        redis: { prefix: PREFIX, ...redisConfig },
        api: { host: '127.0.0.1', port: 0 },
      }),
    );
    const redisUrl = redisConfig.sentinels !== undefined ? '' : slot.redisProxy ? slot.redisProxy.rewrite(this.redis.url) : this.redis.url;
    const child = new SupervisorProcess({
      name: `slot ${slot.index} #${slot.generation}`,
      config,
      env: { REDIS_URL: redisUrl, RISKWARDEN_TRADER_KEY: this.venue.trader.privateKey, RISKWARDEN_API_ADMIN_TOKEN: ADMIN_TOKEN },
      // --for: should the campaign die without killing them, they stop on their own.
      args: ['--lease-ttl', this.#options.leaseTtl ?? '1s', '--for', '20m'],
    });
    void child.exited.then(({ code, signal }) => {
      if (signal !== 'SIGKILL' && signal !== 'SIGTERM')
        this.#exited.push(`${child.name} exited by itself (code ${code}, signal ${signal}):\n  ${child.notes.slice(-12).join('\n  ')}`);
    });
    slot.process = child;
    return child;
  }

  /**
   * An acting API call on a process (POST, JSON body, the admin token): its HTTP status, or the error that
   * kept it from answering (within 3 s).
   */
  async api(child: SupervisorProcess, path: string, body: unknown): Promise<{ status: number } | { error: string }> {
    const answer = await this.#call(child, path, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return 'error' in answer ? answer : { status: answer.status };
  }

  /** The stopouts a process's own API shows in force on an account (`GET /api/v1/fleet`), or undefined. */
  async stopoutsShownBy(child: SupervisorProcess, account: string): Promise<string[] | undefined> {
    const answer = await this.#call(child, '/api/v1/fleet', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    if ('error' in answer || answer.status !== 200) return undefined;
    const rows = (answer.body as { accounts?: Array<{ account?: unknown; id?: unknown; stopouts?: unknown }> } | null)?.accounts ?? [];
    const row = rows.find((r) => r.account === account || r.id === account);
    return Array.isArray(row?.stopouts) ? row.stopouts.filter((s): s is string => typeof s === 'string') : undefined;
  }

  async #call(child: SupervisorProcess, path: string, init: RequestInit): Promise<{ status: number; body: unknown } | { error: string }> {
    const line = child.notes.find((n) => n.includes('API at '));
    const base = line ? /API at (http:\/\/[^/\s]+)/.exec(line)?.[1] : undefined;
    if (base === undefined) return { error: `${child.name} has not announced its API` };
    try {
      const response = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(3_000) });
      const text = await response.text();
      let body: unknown = null;
      try {
        body = JSON.parse(text);
      } catch {
        body = null; // not JSON: the status says enough
      }
      return { status: response.status, body };
    } catch (error) {
      return { error: (error as Error).message };
    }
  }

  /** Processes that exited without being killed (a crash is a finding). */
  get unexpectedExits(): readonly string[] {
    return this.#exited;
  }

  /**
   * At least `atLeast` processes (default: every slot's) supervise and every account (of `accounts`) is
   * published by a running process. Throws after `withinMs`, naming what was missing.
   */
  async ready(withinMs: number, atLeast = this.slots.length, accounts: readonly string[] = this.accounts): Promise<void> {
    let last = '';
    const ok = await untilOr(withinMs, async () => {
      const supervising = this.running().filter((p) => p.owner !== undefined).length;
      if (supervising < atLeast) {
        last = `${supervising} of ${atLeast} processes supervising`;
        return false;
      }
      const statuses = await this.statuses();
      last = accounts.map((a) => `${a}@${statuses.get(a)?.owner ?? '-'}`).join(' ');
      return accounts.every((a) => {
        const owner = statuses.get(a)?.owner;
        return owner !== undefined && this.slotOf(owner) !== undefined;
      });
    });
    if (!ok)
      throw new Error(
        `not within ${withinMs} ms: ${atLeast} processes supervising, every account published by one (${last})\n${this.notes()}`,
      );
  }

  async statuses(): Promise<Map<string, AccountStatus>> {
    const { statuses } = await this.board.read();
    return new Map(statuses.map((s) => [s.account, s]));
  }

  slotOf(owner: string): Slot | undefined {
    return this.slots.find((s) => s.process?.owner === owner && s.process.running);
  }

  /** A market order for `account` past every supervisor, as the strategy itself would; its hash is remembered as not the risk layer's. */
  async trade(account: string, side: OrderIntent['side'], amount: string): Promise<string> {
    if (this.#external === undefined) {
      const client = new VenueClient({ restUrl: this.venue.sim.url, wsUrl: this.venue.sim.wsUrl, clock: wallClock, orderBook: false });
      client.on('fault', () => {}); // outcomes are read from the venue itself
      await client.connect();
      await client.bootstrap(this.accounts.map((a) => ({ strategyId: a, venueStrategyId: a, signer: this.venue.trader })));
      this.#external = client;
    }
    const order = await this.#external.placeOrder(account, `external-${account}-${++this.#externalSeq}`, {
      symbol: 'ETHP',
      side,
      amount,
      type: 'market',
    });
    this.#externalHashes.add(order.orderHash.toLowerCase());
    return order.orderHash;
  }

  /** True for an order the campaign sent as the strategy (not the risk layer's). */
  isExternal(orderHash: string): boolean {
    return this.#externalHashes.has(orderHash.toLowerCase());
  }

  rows(account: string): OrderUpdateHistoryRow[] {
    return this.venue.sim.exchange.orderUpdates({
      trader: this.venue.trader.address,
      strategyIdHash: strategyIdHash(account),
      limit: 100_000,
    }).value;
  }

  /** The venue's order log of `account`, judged: every order that is not an external trade is the risk layer's. */
  judge(account: string): OrderLogReport {
    return checkOrderLog(this.rows(account), {
      trader: this.venue.trader.address,
      strategy: account,
      reducing: (o) => !this.#externalHashes.has(o.orderHash),
    });
  }

  /** Orders of the risk layer still open at the venue for `account`, as the venue's log shows them. */
  openRiskOrders(account: string, report = this.judge(account)): RiskOrder[] {
    const prices = new Map<string, string>();
    for (const row of this.rows(account))
      for (const intent of [row.makerOrderIntent, row.takerOrderIntent])
        if (intent && intent.orderHash !== '') prices.set(intent.orderHash.toLowerCase(), intent.price);
    return report.orders
      .filter((o) => o.end === Number.POSITIVE_INFINITY && !this.#externalHashes.has(o.orderHash))
      .map((o) => ({
        orderHash: o.orderHash,
        side: o.side,
        price: prices.get(o.orderHash) ?? '0',
        remaining: str(dec(o.amount).minus(o.filled)),
      }));
  }

  /**
   * The market takes what the risk layer rests for `account`: the campaign's maker trades every open
   * risk-layer order's remainder at its price (a duplicate fills too, as it would at a real venue).
   */
  async takeRiskOrders(account: string): Promise<number> {
    let taken = 0;
    for (const order of this.openRiskOrders(account)) {
      if (dec(order.remaining).lte(0)) continue;
      await this.venue.makerLimit('ETHP', order.side === 'sell' ? 'buy' : 'sell', order.remaining, order.price).then(
        () => (taken += 1),
        () => {},
      );
    }
    return taken;
  }

  /** An external buy of `size` for `account`, from the campaign's maker ask; true once the venue shows it filled. */
  async buyPastRiskLayer(account: string, size: string): Promise<boolean> {
    const expected = dec(this.venue.position(account, 'ETHP')).plus(size);
    await this.venue.makerLimit('ETHP', 'sell', size, '2000.2');
    await this.trade(account, 'buy', size);
    return untilOr(5_000, () => dec(this.venue.position(account, 'ETHP')).eq(expected));
  }

  /** Stopout fields of a key, as Redis holds them now. */
  async stopouts(scope: string, id: string): Promise<Record<string, string>> {
    return this.#client.hgetall(`${PREFIX}:stopout:${scope}:${id}`);
  }

  async setStopout(scope: string, id: string, reason: string, value: Record<string, unknown>): Promise<void> {
    await this.#client.hset(`${PREFIX}:stopout:${scope}:${id}`, reason, JSON.stringify(value));
    await this.#client.publish(`${PREFIX}:events`, JSON.stringify({ type: 'stopout', scope, id }));
  }

  async resetStopout(scope: string, id: string, reason: string): Promise<void> {
    await this.#client.hdel(`${PREFIX}:stopout:${scope}:${id}`, reason);
    await this.#client.publish(`${PREFIX}:events`, JSON.stringify({ type: 'stopout', scope, id }));
  }

  notes(lines = 6): string {
    return this.slots
      .map(
        (s) =>
          `${s.process?.name ?? `slot ${s.index}`} (${s.process?.owner ?? `pid ${s.process?.pid}`}):\n  ${s.process?.notes.slice(-lines).join('\n  ')}`,
      )
      .join('\n');
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.slots.map((s) => s.process?.kill('SIGKILL')));
    await Promise.allSettled(this.slots.flatMap((s) => [s.venueProxy?.close(), s.redisProxy?.close()]));
    await this.#external?.close().catch(() => {});
    await this.venue.close().catch(() => {});
    this.#client.disconnect();
    if (this.#ownsRedis) await this.redis.remove();
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #connect(): Redis {
    if (this.#options.connectStore) return this.#options.connectStore();
    const client = new Redis(this.redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100, enableOfflineQueue: true });
    client.on('error', () => {}); // the campaign's reads fail loudly where they matter
    return client;
  }
}
