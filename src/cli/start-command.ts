import { formatProblems, loadConfigFile } from '../config/load.ts';
import { formatAccountSummary, summarizeFleet } from './fleet-summary.ts';
import { EXIT_INVALID_INPUT, EXIT_OK, type CliIo } from './io.ts';

/**
 * The main job on embedded defaults. For now: validate the example fleet and show what each account
 * will run with — its budget after defaults and its resolved CopyFactory limits.
 */
export async function startCommand(configPath: string, io: CliIo): Promise<number> {
  const loaded = await loadConfigFile(configPath);
  if (!loaded.ok) {
    io.err(`${configPath} is not valid:`);
    for (const line of formatProblems(loaded.problems)) io.err(`  ${line}`);
    return EXIT_INVALID_INPUT;
  }
  io.out(`riskwarden: ${configPath} is a valid ${loaded.kind} with ${loaded.value.accounts.length} accounts`);
  for (const summary of summarizeFleet(loaded.value)) {
    io.out('');
    for (const line of formatAccountSummary(summary)) io.out(line);
  }
  return EXIT_OK;
}
