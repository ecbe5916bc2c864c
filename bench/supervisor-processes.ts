/**
 * Real supervisor processes for the multi-process figures: N `riskwarden run --config <tmp fleet.yaml>
 * --redis <url> --json` children on one fleet file, one Redis and one simulator (sim-process.ts), each
 * with its HTTP API on a free port and a read token. Their timeline records (stdout, JSON Lines) are
 * read as they come, stamped with the epoch time they arrived here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { BENCH_TRADER, fleetDocument, type BenchAccount } from './bench-fleet.ts';
import type { SimInfo } from './sim-process.ts';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/riskwarden.js', import.meta.url));
export const BENCH_READ_TOKEN = 'bench-read-token-0123456789abcdef';
const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';

const epochNow = (): number => performance.timeOrigin + performance.now();

export interface ProcessRecord {
  kind: string;
  account?: string;
  to?: string;
  purpose?: string;
  allowed?: boolean;
}

/** One `riskwarden run` child. */
export class SupervisorChild {
  readonly child: ChildProcess;
  readonly notes: string[] = [];
  apiUrl: string | undefined;
  owner: string | undefined;
  /** Called with every timeline record and the epoch time it arrived. */
  onRecord: ((record: ProcessRecord, at: number) => void) | undefined;

  constructor(
    readonly name: string,
    config: string,
    redisUrl: string,
  ) {
    this.child = spawn(
      process.execPath,
      [BIN, 'run', '--config', config, '--redis', redisUrl, '--json', '--lease-ttl', '5s', '--for', '900s'],
      {
        cwd: REPO,
        env: {
          ...process.env,
          RISKWARDEN_TRADER_KEY: BENCH_TRADER.privateKey,
          RISKWARDEN_API_READ_TOKEN: BENCH_READ_TOKEN,
          RISKWARDEN_API_ADMIN_TOKEN: ADMIN_TOKEN,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      if (!this.onRecord) return;
      const at = epochNow();
      try {
        this.onRecord(JSON.parse(line) as ProcessRecord, at);
      } catch {
        // not a record
      }
    });
    createInterface({ input: this.child.stderr! }).on('line', (line) => {
      this.notes.push(line);
      if (this.notes.length > 200) this.notes.shift();
      const api = /API at (http:\/\/[^/\s]+)\/api\/v1\/fleet/.exec(line);
      if (api) this.apiUrl = api[1];
      const owner = /supervising \d+ account\(s\) as (\S+)/.exec(line);
      if (owner) this.owner = owner[1];
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  headers(): Record<string, string> {
    return { authorization: `Bearer ${BENCH_READ_TOKEN}`, 'content-type': 'application/json' };
  }

  /** The ids of the accounts this process supervises now (GET /api/v1/fleet). */
  async accounts(): Promise<string[]> {
    const r = await fetch(`${this.apiUrl}/api/v1/fleet`, { headers: this.headers() });
    const body = (await r.json()) as { accounts: Array<{ id: string }> };
    return body.accounts.map((a) => a.id);
  }

  /** The gate's answer to `order` on `account` (POST /api/v1/accounts/{id}/entry-check). */
  async allowed(account: string, order: unknown): Promise<boolean> {
    const r = await fetch(`${this.apiUrl}/api/v1/accounts/${encodeURIComponent(account)}/entry-check`, {
      method: 'POST',
      headers: this.headers(),
      body: JSON.stringify(order),
    });
    if (r.status !== 200) throw new Error(`${this.name}: entry-check ${account}: HTTP ${r.status} ${await r.text()}`);
    return ((await r.json()) as { allowed: boolean }).allowed;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }
}

export class SupervisorProcesses {
  readonly children: SupervisorChild[];
  readonly #dir: string;

  constructor(children: SupervisorChild[], dir: string) {
    this.children = children;
    this.#dir = dir;
  }

  /** Writes the fleet file (the bench accounts, the simulator as venue, Redis under `prefix`) and starts `count` processes. */
  static start(options: {
    accounts: readonly BenchAccount[];
    sim: SimInfo;
    redisUrl: string;
    prefix: string;
    count: number;
  }): SupervisorProcesses {
    const dir = mkdtempSync(join(tmpdir(), 'riskwarden-bench-'));
    const config = join(dir, 'fleet.yaml');
    writeFileSync(
      config,
      stringify({
        ...fleetDocument(options.accounts),
        venue: { kind: 'simulator', url: options.sim.url, wsUrl: options.sim.wsUrl },
        redis: { prefix: options.prefix },
        api: { host: '127.0.0.1', port: 0 },
      }),
    );
    const children = Array.from({ length: options.count }, (_, i) => new SupervisorChild(`supervisor ${i + 1}`, config, options.redisUrl));
    return new SupervisorProcesses(children, dir);
  }

  /** Waits until every process serves its API and, together, they supervise every account exactly once. */
  async settled(total: number, withinMs: number): Promise<Map<SupervisorChild, string[]>> {
    const deadline = performance.now() + withinMs;
    let last = '';
    for (;;) {
      const dead = this.children.find((c) => !c.running);
      if (dead) throw new Error(`${dead.name} exited:\n${dead.notes.slice(-20).join('\n')}`);
      if (this.children.every((c) => c.apiUrl)) {
        const owned = await Promise.all(this.children.map((c) => c.accounts().catch(() => [] as string[])));
        const all = new Set(owned.flat());
        last = owned.map((o) => o.length).join(' + ');
        if (all.size === total && owned.flat().length === total && owned.every((o) => o.length > 0)) {
          return new Map(this.children.map((c, i) => [c, owned[i]!]));
        }
      }
      if (performance.now() > deadline) {
        throw new Error(
          `supervisors not settled within ${withinMs} ms (accounts ${last || 'unknown'} of ${total}):\n${this.children.map((c) => `${c.name}: ${c.notes.slice(-5).join('\n  ')}`).join('\n')}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.children.map((c) => c.stop()));
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
