import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * `npm run bench -- --json` on a fleet of 50 accounts, with short rate steps, few samples and few rounds:
 * every figure of docs/contracts.md#bench is there and is a sane number (finite, not negative). No time is
 * asserted: the figures are the bench's to report, not this test's to judge.
 */

const REPO = fileURLToPath(new URL('../../', import.meta.url));

function runBench(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--json'], {
      cwd: REPO,
      env: { ...process.env, BENCH_ACCOUNTS: '50', BENCH_RATE_MS: '100', BENCH_SAMPLES: '20', BENCH_ROUNDS: '5' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => void (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every path of `fields` in `value`, each a finite number ≥ 0. */
function saneNumbers(value: Record<string, unknown>, fields: Record<string, string[]>): string[] {
  const problems: string[] = [];
  for (const [figure, names] of Object.entries(fields)) {
    for (const name of names) {
      const path = `${figure}.${name}`;
      const v = path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], value);
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
        problems.push(`${path}: expected a finite number ≥ 0, got ${JSON.stringify(v)}`);
    }
  }
  return problems;
}

describe('npm run bench -- --json', () => {
  it('prints one JSON object with every figure, each a sane number', { timeout: 300_000 }, async () => {
    const { code, stdout, stderr } = await runBench();
    expect(code, stderr).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(result.machine).toMatchObject({ cpus: expect.any(Number), node: process.version });
    const problems = saneNumbers(result, {
      fleetCrash: [
        'accounts',
        'allBlockedMs',
        'refused',
        'firstReductionsSentMs',
        'top100ReductionsSentMs',
        'top100ThinnestCount',
        'allFirstReductionsSignedMs',
        'socketAccounts',
        'allFirstReductionsSentMs',
        'firstOnSocketMs',
        'allFirstReductionsReceivedMs',
        'naive.allBlockedMs',
        'naive.firstReductionsSentMs',
        'naive.top100ReductionsSentMs',
      ],
      steadyTick: ['accounts', 'usPerTick', 'usPerMark', 'maxMarksPerSecond', 'lagMsAtMax', 'naive.usPerTick', 'naive.usPerMark'],
      propagation: ['processes', 'rounds', 'p50Ms', 'p99Ms', 'redisPingP50Ms'],
      memory: ['accounts', 'bytesPerAccount', 'heapBeforeBytes', 'heapAfterBytes'],
      recovery: ['accounts', 'ms', 'readMs', 'restoreMs'],
      tickToOrder: ['p50Us', 'p99Us', 'samples'],
      scaleOut: ['processes', 'accounts', 'total.allBlockedMs', 'total.allFirstReductionsMs'],
    });
    expect(problems).toEqual([]);
    const crash = result.fleetCrash as Record<string, unknown>;
    expect(crash.accounts).toBe(50);
    // Every account was asked for an entry after the crash, and every one was refused.
    expect(crash.refused).toBe(50);
    expect(typeof crash.top100Thinnest).toBe('boolean');
    expect((result.memory as { bytesPerAccount: number }).bytesPerAccount).toBeGreaterThan(0);
    const scale = result.scaleOut as { processes: number; accounts: number; perProcess: Array<{ accounts: number }> };
    expect(scale.perProcess).toHaveLength(scale.processes);
    expect(scale.perProcess.reduce((sum, p) => sum + p.accounts, 0)).toBe(scale.accounts);
    expect(Object.values(result.goalsMet as Record<string, unknown>).every((v) => typeof v === 'boolean')).toBe(true);
  });
});
