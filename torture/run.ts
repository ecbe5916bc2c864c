/**
 * `npm run torture [-- --minutes N --seed S --out docs/reliability.md --only a,b --quick]`: runs the
 * torture campaigns (torture/runner.ts) for a bounded time (default 10 minutes), prints progress, writes
 * the report with the exact command that reproduces it, and exits 1 when any campaign failed.
 */
import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { reportFailures, writeReport } from './report.ts';
import { CAMPAIGN_FILES, loadCampaigns, runCampaigns } from './runner.ts';

function fail(message: string): never {
  console.error(`npm run torture: ${message}`);
  process.exit(2);
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        minutes: { type: 'string', default: '10' },
        seed: { type: 'string' },
        out: { type: 'string', default: 'docs/reliability.md' },
        only: { type: 'string' },
        quick: { type: 'boolean', default: false },
      },
      strict: true,
    });
  } catch (error) {
    return fail((error as Error).message);
  }
})();

const minutes = Number(values.minutes);
if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 24 * 60)
  fail(`--minutes: expected a number of minutes in (0, 1440], got ${values.minutes}`);
const seed = values.seed === undefined ? randomInt(1, 2 ** 31 - 1) : Number(values.seed);
if (!Number.isSafeInteger(seed) || seed < 0 || seed >= 2 ** 32) fail(`--seed: expected a whole number in [0, 2^32), got ${values.seed}`);
const only = values.only?.split(',').map((s) => s.trim());
const known = CAMPAIGN_FILES.map((c) => c.name);
for (const name of only ?? [])
  if (!known.includes(name)) fail(`--only: unknown campaign ${JSON.stringify(name)} (known: ${known.join(', ')})`);

const command = [
  'npm run torture --',
  `--minutes ${minutes}`,
  `--seed ${seed}`,
  `--out ${values.out}`,
  ...(only ? [`--only ${only.join(',')}`] : []),
  ...(values.quick ? ['--quick'] : []),
].join(' ');
console.log(`torture: ${command}`);

const report = await runCampaigns(await loadCampaigns(only), {
  seed,
  minutes,
  quick: values.quick,
  command,
  log: (line) => console.log(`${new Date().toISOString().slice(11, 19)} ${line}`),
});
writeReport(values.out, report);
const failures = reportFailures(report);
console.log(`torture: wrote ${values.out}; ${failures.length === 0 ? 'passed' : `${failures.length} failure(s)`}`);
for (const f of failures) console.log(`  ${f.split('\n')[0]}`);
// Campaigns may leave worker handles behind on a failure: the verdict is in, end here.
process.exit(failures.length === 0 ? 0 : 1);
