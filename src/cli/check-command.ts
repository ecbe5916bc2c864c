import { formatProblems, loadConfigFile } from '../config/load.ts';
import { formatAccountSummary, summarizeFleet } from './fleet-summary.ts';
import { EXIT_INVALID_INPUT, EXIT_OK, type CliIo } from './io.ts';

/**
 * `riskwarden check <file>`: validates a fleet config or a scenario (a document with a top-level `marks`
 * key is a scenario). Exit 0 when valid, then each account's resolved budget and CopyFactory limits;
 * 2 with every problem on stderr as `<path>: <message>`.
 */
export async function checkCommand(file: string, io: CliIo): Promise<number> {
  const result = await loadConfigFile(file);
  if (!result.ok) {
    for (const line of formatProblems(result.problems)) io.err(line);
    return EXIT_INVALID_INPUT;
  }
  const n = result.value.accounts.length;
  io.out(`ok: ${file} is a valid ${result.kind} (${n} account${n === 1 ? '' : 's'})`);
  for (const summary of summarizeFleet(result.value)) {
    for (const line of formatAccountSummary(summary)) io.out(line);
  }
  return EXIT_OK;
}
