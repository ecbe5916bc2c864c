import type { RedisConnection } from '../redis/connection.ts';
import { scanKeys } from '../redis/scan-keys.ts';

/** One supervised account as `riskwarden status` shows it. */
export interface AccountStatus {
  account: string;
  state: string;
  /** Full nested state path, e.g. de-risking.awaiting. */
  detail: string;
  position: Record<string, string>;
  grossNotional: string;
  marginBuffer: string | null;
  stopouts: string[];
  owner: string;
  /** ISO 8601 of the sample. */
  at: string;
  /**
   * The account's values as its portfolio and subscription limits measure them (settled collateral, equity,
   * net transfers), once it has complete metrics: other processes sum them into group aggregates.
   */
  balance?: string;
  equity?: string;
  netTransfers?: string;
}

/**
 * Where every supervisor process publishes the accounts it runs, one short-lived key per account
 * (`<prefix>:status:<account>`, JSON, expiring unless refreshed), so `riskwarden status` can show the
 * whole fleet from any machine. A dead process's accounts disappear within the TTL.
 */
export class StatusBoard {
  readonly #client: RedisConnection;
  readonly #prefix: string;

  constructor(client: RedisConnection, prefix: string) {
    this.#client = client;
    this.#prefix = prefix;
  }

  async publish(statuses: readonly AccountStatus[], ttlMs: number): Promise<void> {
    await Promise.all(statuses.map((s) => this.#client.set(this.#key(s.account), JSON.stringify(s), 'PX', ttlMs)));
  }

  async read(): Promise<{ statuses: AccountStatus[]; problems: string[] }> {
    const keys = (await scanKeys(this.#client, `${this.#prefix}:status:*`)).sort();
    return this.#parse(keys, await Promise.all(keys.map((key) => this.#client.get(key))));
  }

  /** The statuses of these accounts that are published now (one GET each: no SCAN, any Cluster slot). */
  async readAccounts(accounts: readonly string[]): Promise<{ statuses: AccountStatus[]; problems: string[] }> {
    const keys = accounts.map((account) => this.#key(account));
    return this.#parse(keys, await Promise.all(keys.map((key) => this.#client.get(key))));
  }

  #parse(keys: readonly string[], texts: ReadonlyArray<string | null>): { statuses: AccountStatus[]; problems: string[] } {
    const statuses: AccountStatus[] = [];
    const problems: string[] = [];
    keys.forEach((key, i) => {
      const text = texts[i];
      if (text === null || text === undefined) return;
      try {
        const value = JSON.parse(text) as AccountStatus;
        if (typeof value.account !== 'string' || typeof value.state !== 'string') throw new Error('not an account status');
        statuses.push(value);
      } catch (error) {
        problems.push(`${key}: ${(error as Error).message}`);
      }
    });
    return { statuses, problems };
  }

  #key(account: string): string {
    return `${this.#prefix}:status:${account}`;
  }
}

/** One line for a terminal. */
export function formatStatus(s: AccountStatus): string {
  const position =
    Object.entries(s.position)
      .map(([symbol, size]) => `${symbol} ${size}`)
      .join(', ') || 'flat';
  const stopouts = s.stopouts.length ? s.stopouts.join(', ') : 'none';
  return `${s.account.padEnd(12)} ${s.state.padEnd(16)} position ${position}; notional ${s.grossNotional}; margin buffer ${s.marginBuffer ?? '—'}; stopouts ${stopouts}; owner ${s.owner}`;
}
