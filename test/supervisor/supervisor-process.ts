import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { eventually, GiveUp } from './eventually.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/riskwarden.js', import.meta.url));

/** A timeline record as a child printed it (`--json`), with the wall time the test read it at. */
export interface ReceivedRecord {
  t: number;
  kind: string;
  account?: string;
  [field: string]: unknown;
  /** Date.now() in the test when the line arrived: an upper bound of when the child wrote it. */
  receivedAt: number;
}

export interface SupervisorProcessOptions {
  config: string;
  env: Record<string, string>;
  /** Extra arguments after `run --config <file> --json`. */
  args?: string[];
  /** Label used in failure messages. */
  name: string;
}

/**
 * One `riskwarden run --config <file> --json` child process: its timeline records as they arrive, its
 * stderr notes, and its owner id (`host:pid:random`, as in leases and status keys).
 */
export class SupervisorProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly records: ReceivedRecord[] = [];
  readonly notes: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #owner: string | undefined;

  constructor(options: SupervisorProcessOptions) {
    this.name = options.name;
    this.child = spawn(process.execPath, [BIN, 'run', '--config', options.config, '--json', ...(options.args ?? [])], {
      cwd: REPO,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const receivedAt = Date.now();
      try {
        const record = JSON.parse(line) as { t: number; kind: string };
        this.records.push({ ...record, receivedAt });
      } catch {
        this.notes.push(`(stdout, not JSON) ${line}`);
      }
    });
    createInterface({ input: this.child.stderr! }).on('line', (line) => {
      this.notes.push(line);
      const supervising = /supervising \d+ account\(s\) as (\S+)/.exec(line);
      if (supervising) this.#owner = supervising[1];
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Known once the child has started supervising. */
  get owner(): string | undefined {
    return this.#owner;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async waitUntilSupervising(withinMs: number): Promise<string> {
    return eventually(
      `${this.name} (pid ${this.pid}) to start supervising`,
      withinMs,
      () => {
        if (!this.running)
          throw new GiveUp(`${this.name} (pid ${this.pid}) exited before supervising:\n${this.notes.slice(-30).join('\n')}`);
        return this.#owner;
      },
      { lastSeen: () => this.notes.slice(-5) },
    );
  }

  /** The first record (from `from` on) that matches. */
  find(match: (record: ReceivedRecord) => boolean, from = 0): ReceivedRecord | undefined {
    for (let i = from; i < this.records.length; i++) if (match(this.records[i]!)) return this.records[i];
    return undefined;
  }

  waitForRecord(what: string, withinMs: number, match: (record: ReceivedRecord) => boolean, from = 0): Promise<ReceivedRecord> {
    return eventually(`${this.name}: ${what}`, withinMs, () => this.find(match, from), { lastSeen: () => this.notes.slice(-3) });
  }

  /**
   * Wall time of the child's t = 0, from above: each record was written at origin + t, no later than it
   * was read here, so origin ≤ receivedAt − t for every record; the smallest of these is the tightest
   * bound the pipe allows. origin + t then bounds a record's write time from above.
   */
  originUpperBound(): number {
    let best = Infinity;
    for (const r of this.records) best = Math.min(best, r.receivedAt - r.t);
    return best;
  }

  /** SIGKILL (the abrupt death a takeover must survive) or another signal; resolves once it exited. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.running) this.child.kill(signal);
    await this.exited;
  }
}
