import { createHash } from 'node:crypto';
import type { RedisConnection } from './connection.ts';

/**
 * A Lua script run by its SHA1 (EVALSHA), sent in full (EVAL) only when the server answers NOSCRIPT —
 * after a restart, a failover, a SCRIPT FLUSH, or on a Cluster node that has not seen it yet. The full
 * EVAL also caches it there, so the next run is an EVALSHA again. On a Cluster all keys must share a slot.
 */
export class LuaScript {
  readonly source: string;
  /** SHA1 of the source, as EVALSHA and SCRIPT EXISTS name it. */
  readonly sha: string;

  constructor(source: string) {
    this.source = source;
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(connection: RedisConnection, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await connection.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return await connection.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/** The server's "not cached here" reply; any other error (a Lua error included) is the caller's. */
function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}
