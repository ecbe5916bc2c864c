import { open, stat } from 'node:fs/promises';
import type { RedisConnection } from '../redis/connection.ts';

/** One raw audit line and where it came from (a stream entry id, or the file), for problem reports. */
export interface RawAuditLine {
  where: string;
  data: string;
}

type StreamEntries = Array<[id: string, fields: string[]]>;

function dataOf(id: string, fields: string[]): RawAuditLine {
  const i = fields.indexOf('data');
  return { where: `entry ${id}`, data: i >= 0 && i % 2 === 0 ? (fields[i + 1] ?? '') : '' };
}

/**
 * Reading the audit log back (`riskwarden audit tail`): the last entries of the Redis Stream or the JSONL
 * file, then, when following, every entry appended after them.
 */
export interface AuditSource {
  /** The last `n` lines, oldest first, and a position to follow from. */
  tail(n: number): Promise<RawAuditLine[]>;
  /** Calls `onLine` for each line appended after the tail until `signal` aborts. */
  follow(onLine: (line: RawAuditLine) => void, signal: AbortSignal): Promise<void>;
}

/** The stream `key`: XREVRANGE for the tail, XREAD BLOCK for following (give it a connection of its own). */
export function streamAuditSource(connection: RedisConnection, key: string, blockMs = 1_000): AuditSource {
  let lastId = '0-0';
  let tailed = false;
  return {
    async tail(n) {
      const newest = (await connection.xrevrange(key, '+', '-', 'COUNT', Math.max(n, 1))) as StreamEntries;
      tailed = true;
      if (newest[0]) lastId = newest[0][0];
      return newest
        .slice(0, n)
        .reverse()
        .map(([id, fields]) => dataOf(id, fields));
    },
    async follow(onLine, signal) {
      if (!tailed) await this.tail(0);
      while (!signal.aborted) {
        let reply: Array<[string, StreamEntries]> | null;
        try {
          reply = (await connection.xread('COUNT', 500, 'BLOCK', blockMs, 'STREAMS', key, lastId)) as Array<[string, StreamEntries]> | null;
        } catch (error) {
          if (signal.aborted) return;
          throw error;
        }
        for (const [, entries] of reply ?? []) {
          for (const [id, fields] of entries) {
            lastId = id;
            onLine(dataOf(id, fields));
          }
        }
      }
    },
  };
}

const CHUNK = 64 * 1024;

/** The JSONL file at `path`: read backwards for the tail, polled for growth when following. */
export function fileAuditSource(path: string, pollMs = 200): AuditSource {
  let offset = 0;
  let tailed = false;
  return {
    async tail(n) {
      const handle = await open(path, 'r');
      try {
        const size = (await handle.stat()).size;
        // Read chunks from the end until n complete lines are in hand (n + 1 newlines), or the file's start.
        let position = size;
        const chunks: Buffer[] = [];
        let newlines = 0;
        while (position > 0 && newlines <= n) {
          const length = Math.min(CHUNK, position);
          position -= length;
          const buffer = Buffer.alloc(length);
          await handle.read(buffer, 0, length, position);
          chunks.unshift(buffer);
          for (const byte of buffer) if (byte === 0x0a) newlines++;
        }
        const bytes = Buffer.concat(chunks);
        const lastNewline = bytes.lastIndexOf(0x0a);
        // Bytes after the last newline are a line still being written: following starts at them.
        offset = position + lastNewline + 1;
        tailed = true;
        const lines = bytes
          .subarray(0, lastNewline + 1)
          .toString('utf8')
          .split('\n')
          .slice(0, -1);
        if (position > 0) lines.shift(); // cut by the chunk boundary
        const complete = lines.filter((line) => line.trim() !== '');
        return (n === 0 ? [] : complete.slice(-n)).map((data) => ({ where: path, data }));
      } finally {
        await handle.close();
      }
    },
    async follow(onLine, signal) {
      if (!tailed) await this.tail(0);
      let partial = '';
      while (!signal.aborted) {
        const size = await stat(path).then(
          (s) => s.size,
          () => 0,
        );
        if (size < offset) {
          // Truncated or replaced (rotation): start from its beginning.
          offset = 0;
          partial = '';
        }
        if (size > offset) {
          const handle = await open(path, 'r');
          try {
            const buffer = Buffer.alloc(size - offset);
            await handle.read(buffer, 0, buffer.length, offset);
            offset = size;
            const text = partial + buffer.toString('utf8');
            const lines = text.split('\n');
            partial = lines.pop() ?? '';
            for (const data of lines) if (data.trim() !== '') onLine({ where: path, data });
          } finally {
            await handle.close();
          }
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, pollMs);
          function done(): void {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            resolve();
          }
          signal.addEventListener('abort', done, { once: true });
        });
      }
    },
  };
}
