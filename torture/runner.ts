import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Campaign, CampaignResult } from './campaign.ts';
import type { CampaignOutcome, TortureReport } from './report.ts';

/**
 * The campaigns `npm run torture` runs, in order: a static list (a file appears here when someone writes
 * it). A campaign file exports its `Campaign` as `campaign` (or as its default export).
 */
export const CAMPAIGN_FILES: readonly { name: string; file: string }[] = [
  { name: 'seeded-runs', file: './seeded-runs.ts' },
  { name: 'fuzz', file: './fuzz.ts' },
  { name: 'kills', file: './campaigns/kills.ts' },
  { name: 'redis-faults', file: './campaigns/redis-faults.ts' },
  { name: 'network-faults', file: './campaigns/network-faults.ts' },
];

/** After its deadline a campaign gets this long to return before it counts as not stopping. */
export const OVERRUN_GRACE_MS = 60_000;

export type CampaignSource = { name: string; campaign: Campaign } | { name: string; missing: string };

export function isCampaign(value: unknown): value is Campaign {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  return typeof c.name === 'string' && typeof c.share === 'number' && typeof c.run === 'function';
}

/** Imports the listed campaign files that exist; a missing file or one without a Campaign export is "not run". */
export async function loadCampaigns(only?: readonly string[]): Promise<CampaignSource[]> {
  const sources: CampaignSource[] = [];
  for (const { name, file } of CAMPAIGN_FILES) {
    if (only && !only.includes(name)) continue;
    const url = new URL(file, import.meta.url);
    if (!existsSync(fileURLToPath(url))) {
      sources.push({ name, missing: `torture/${file.slice(2)} does not exist` });
      continue;
    }
    const module = (await import(url.href)) as Record<string, unknown>;
    const found = [module.campaign, module.default, ...Object.values(module)].find(isCampaign);
    sources.push(found ? { name, campaign: found } : { name, missing: `torture/${file.slice(2)} exports no Campaign` });
  }
  return sources;
}

export interface RunOptions {
  seed: number;
  minutes: number;
  quick: boolean;
  command: string;
  log: (line: string) => void;
  /** Wall clock (tests pass their own). */
  now?: () => number;
}

/**
 * Runs the campaigns one after the other (each uses every core it wants), each until its deadline: its
 * share of what is left, so time a campaign does not use goes to the ones after it.
 */
export async function runCampaigns(sources: readonly CampaignSource[], options: RunOptions): Promise<TortureReport> {
  const now = options.now ?? Date.now;
  const started = now();
  const loadAtStart = loadavg()[0] ?? 0;
  const end = started + options.minutes * 60_000;
  const outcomes: CampaignOutcome[] = [];
  let sharesLeft = sources.reduce((sum, s) => sum + ('campaign' in s ? Math.max(0, s.campaign.share) : 0), 0);
  for (const source of sources) {
    if (!('campaign' in source)) {
      options.log(`[${source.name}] not run: ${source.missing}`);
      outcomes.push({ name: source.name, status: 'not run', why: source.missing });
      continue;
    }
    const { campaign } = source;
    const share = Math.max(0, campaign.share);
    const begin = now();
    const budgetMs = Math.max(0, sharesLeft > 0 ? ((end - begin) * share) / sharesLeft : 0);
    sharesLeft -= share;
    const deadline = begin + budgetMs;
    const log = (line: string): void => options.log(`[${campaign.name}] ${line}`);
    log(`start: ${(budgetMs / 1000).toFixed(1)} s until ${new Date(deadline).toISOString()}`);
    try {
      const result = await withinDeadline(campaign.run({ seed: options.seed, deadline, log, quick: options.quick }), deadline, now);
      const elapsedMs = now() - begin;
      outcomes.push({ name: campaign.name, status: 'ran', result, elapsedMs, budgetMs });
      log(`done in ${(elapsedMs / 1000).toFixed(1)} s: ${result.failures.length} failure(s); ${JSON.stringify(result.figures)}`);
    } catch (error) {
      const why = error instanceof Error ? (error.stack ?? error.message) : String(error);
      outcomes.push({ name: campaign.name, status: 'broke', why, elapsedMs: now() - begin, budgetMs });
      log(`BROKE: ${why}`);
    }
  }
  const cpu = cpus();
  return {
    command: options.command,
    startedAt: new Date(started).toISOString(),
    elapsedMs: now() - started,
    machine: {
      nproc: cpu.length,
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpu: cpu[0]?.model.trim() ?? 'unknown',
      load: `${loadAtStart.toFixed(1)} at the start, ${(loadavg()[0] ?? 0).toFixed(1)} at the end`,
    },
    seed: options.seed,
    minutes: options.minutes,
    outcomes,
  };
}

/** The campaign's result, or a rejection naming the overrun when it has not returned by deadline + grace. */
async function withinDeadline(run: Promise<CampaignResult>, deadline: number, now: () => number): Promise<CampaignResult> {
  let timer: NodeJS.Timeout | undefined;
  const overrun = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`did not stop by its deadline (${new Date(deadline).toISOString()}) plus ${OVERRUN_GRACE_MS / 1000} s`)),
      Math.max(0, deadline - now()) + OVERRUN_GRACE_MS,
    );
  });
  try {
    return await Promise.race([run, overrun]);
  } finally {
    clearTimeout(timer);
  }
}
