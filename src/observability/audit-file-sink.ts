import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { AuditSink } from './audit-log.ts';

/**
 * The audit log's JSON Lines file: appended to (never truncated), one entry per line, one `write` per
 * batch. The directory is created on the first write. Rotate it with copytruncate-style tools or by
 * moving it away: the next batch creates a fresh file.
 */
export function auditFileSink(path: string): AuditSink {
  let dirReady = false;
  return {
    name: `file ${path}`,
    async write(lines) {
      if (!dirReady) {
        await mkdir(dirname(path), { recursive: true });
        dirReady = true;
      }
      await appendFile(path, `${lines.join('\n')}\n`, { encoding: 'utf8', mode: 0o640 });
    },
  };
}
