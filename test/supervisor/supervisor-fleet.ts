import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { preferredOwner } from '../../src/persistence/process-registry.ts';
import { StatusBoard, type AccountStatus } from '../../src/store/status-board.ts';
import { eventually, GiveUp } from './eventually.ts';
import { TRADER_KEY, type LiveVenue } from './live-venue.ts';
import { SupervisorProcess } from './supervisor-process.ts';

export interface FleetSpec {
  venue: LiveVenue;
  redisUrl: string;
  /** Unique per test: every key the supervisors write lives under it. */
  prefix: string;
  /** The fleet document without `venue` and `redis` (accounts, portfolios, defaults …). */
  fleet: Record<string, unknown>;
  processes: number;
  /** `--lease-ttl` (default "1s": takeover within about a second of a death). */
  leaseTtl?: string;
}

/**
 * N `riskwarden run` processes on one fleet file, one venue and one Redis: writes the file, deposits each
 * account's collateral at the venue, spawns the children, and reads what they publish.
 */
export class SupervisorFleet {
  readonly processes: SupervisorProcess[];
  readonly board: StatusBoard;
  readonly accounts: string[];
  readonly #dir: string;

  private constructor(processes: SupervisorProcess[], board: StatusBoard, accounts: string[], dir: string) {
    this.processes = processes;
    this.board = board;
    this.accounts = accounts;
    this.#dir = dir;
  }

  static start(spec: FleetSpec, redis: Redis): SupervisorFleet {
    const dir = mkdtempSync(join(tmpdir(), 'riskwarden-supervisors-'));
    const config = join(dir, 'fleet.yaml');
    const document = {
      ...spec.fleet,
      venue: { kind: 'simulator', url: spec.venue.sim.url, wsUrl: spec.venue.sim.wsUrl },
      redis: { prefix: spec.prefix },
      // Each process's HTTP API on a free port: three of them (and other tests) cannot share one.
      api: { host: '127.0.0.1', port: 0 },
    };
    writeFileSync(config, stringify(document));
    const accounts = (spec.fleet.accounts as Array<{ id: string; collateral?: string }>).map((a) => {
      spec.venue.deposit(a.id, a.collateral ?? '10000');
      return a.id;
    });
    const processes = Array.from(
      { length: spec.processes },
      (_, i) =>
        new SupervisorProcess({
          name: `supervisor ${i + 1}`,
          config,
          env: { REDIS_URL: spec.redisUrl, RISKWARDEN_TRADER_KEY: TRADER_KEY },
          // --for: should the test runner die without killing them, they stop on their own.
          args: ['--lease-ttl', spec.leaseTtl ?? '1s', '--for', '90s'],
        }),
    );
    return new SupervisorFleet(processes, new StatusBoard(redis, spec.prefix), accounts, dir);
  }

  /** Status of every account that has one, by account id. */
  async statuses(): Promise<Map<string, AccountStatus>> {
    const { statuses } = await this.board.read();
    return new Map(statuses.map((s) => [s.account, s]));
  }

  processOf(owner: string): SupervisorProcess | undefined {
    return this.processes.find((p) => p.owner === owner);
  }

  /**
   * Waits until every process supervises and every account is published by the process rendezvous hashing
   * prefers among the running ones: startup handovers are over, and ownership is stable from here on.
   */
  async settled(withinMs: number): Promise<Map<string, AccountStatus>> {
    const started = Date.now();
    await Promise.all(this.processes.map((p) => p.waitUntilSupervising(withinMs)));
    const owners = this.processes.map((p) => p.owner!);
    let last: Map<string, AccountStatus> | undefined;
    return eventually(
      'every account to be published by its preferred process',
      Math.max(1_000, withinMs - (Date.now() - started)),
      async () => {
        const dead = this.processes.find((p) => !p.running);
        if (dead) throw new GiveUp(`${dead.name} (pid ${dead.pid}) exited:\n${dead.notes.slice(-30).join('\n')}`);
        const statuses = await this.statuses();
        last = statuses;
        const done = this.accounts.every((a) => statuses.get(a)?.owner === preferredOwner(a, owners));
        return done ? statuses : undefined;
      },
      { everyMs: 100, lastSeen: () => [...(last?.values() ?? [])].map((s) => `${s.account}@${s.owner}`) },
    );
  }

  async kill(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.kill('SIGKILL')));
    rmSync(this.#dir, { recursive: true, force: true });
  }

  /** The last notes of every process, for failure messages. */
  notes(lines = 8): string {
    return this.processes.map((p) => `${p.name} (${p.owner ?? `pid ${p.pid}`}):\n  ${p.notes.slice(-lines).join('\n  ')}`).join('\n');
  }
}
