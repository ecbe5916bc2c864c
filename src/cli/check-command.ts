import { formatProblems, loadConfigFile } from '../config/load.ts';

/**
 * `riskwarden check <file>`: validates a fleet config or a scenario (a document with a top-level `marks`
 * key is a scenario). Exit 0 when valid; 2 with every problem on stderr as `<path>: <message>`.
 */
export async function checkCommand(file: string, io: { out: (s: string) => void; err: (s: string) => void }): Promise<number> {
  const result = await loadConfigFile(file);
  if (!result.ok) {
    for (const line of formatProblems(result.problems)) io.err(line);
    return 2;
  }
  const n = result.value.accounts.length;
  io.out(`ok: ${file} is a valid ${result.kind} (${n} account${n === 1 ? '' : 's'})`);
  return 0;
}
