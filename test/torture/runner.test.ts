import { existsSync, readFileSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Campaign } from '../../torture/campaign.ts';
import { fuzzSlice } from '../../torture/fuzz.ts';
import type { AnyTarget } from '../../torture/fuzz-targets.ts';
import { renderReport, reportFailures } from '../../torture/report.ts';
import { CAMPAIGN_FILES, isCampaign, loadCampaigns, runCampaigns, type CampaignSource } from '../../torture/runner.ts';

const quiet = (): void => {};

describe('npm run torture: the runner', () => {
  it('gives each campaign its share of what is left, lists a missing one as not run, and counts every failure', async () => {
    let clock = 0;
    const budgets: Record<string, number> = {};
    const campaign = (name: string, share: number, failures: string[], uses: number): Campaign => ({
      name,
      share,
      run: async ({ deadline }) => {
        budgets[name] = deadline - clock;
        clock += uses;
        return { name, figures: { runs: 3 }, failures };
      },
    });
    const sources: CampaignSource[] = [
      { name: 'a', campaign: campaign('a', 0.5, [], 10_000) },
      { name: 'missing', missing: 'torture/campaigns/missing.ts does not exist' },
      { name: 'b', campaign: campaign('b', 0.25, ['seed 4: a flip'], 5_000) },
      { name: 'c', campaign: campaign('c', 0.25, [], 0) },
      {
        name: 'd',
        campaign: {
          name: 'd',
          share: 0,
          run: async () => {
            throw new Error('boom');
          },
        },
      },
    ];
    const report = await runCampaigns(sources, {
      seed: 4,
      minutes: 1,
      quick: false,
      command: 'npm run torture -- --seed 4',
      log: quiet,
      now: () => clock,
    });
    // 60 s: a gets 0.5 of 60 s; b 0.25/0.5 of the 50 s left; c all of the 45 s left.
    expect(budgets).toEqual({ a: 30_000, b: 25_000, c: 45_000 });
    expect(report.outcomes.map((o) => `${o.name}:${o.status}`)).toEqual(['a:ran', 'missing:not run', 'b:ran', 'c:ran', 'd:broke']);
    expect(reportFailures(report)).toEqual(['b: seed 4: a flip', expect.stringMatching(/^d: Error: boom/)]);
    const text = renderReport(report);
    expect(text).toContain('- command: `npm run torture -- --seed 4`');
    expect(text).toContain('**FAILED** (2 failure(s)); 1 campaign(s) not run: missing');
    expect(text).toContain('| missing | not run | — | — | — |');
    expect(text).toContain('Not run: torture/campaigns/missing.ts does not exist');
    expect(text).toContain('- seed 4: a flip');
    expect(text).toMatch(/- machine: \d+ CPU\(s\) .*Node v\d+/);
  });

  it('loads the campaigns that exist and lists the others as not run, never with figures', async () => {
    const sources = await loadCampaigns(['seeded-runs', 'fuzz']);
    expect(sources.map((s) => s.name)).toEqual(['seeded-runs', 'fuzz']);
    for (const s of sources) expect('campaign' in s && isCampaign(s.campaign)).toBe(true);
    for (const { name, file } of CAMPAIGN_FILES) {
      const [source] = await loadCampaigns([name]);
      const exists = existsSync(new URL(`../../torture/${file.slice(2)}`, import.meta.url));
      expect('campaign' in source! || !exists, `${name}: the file exists but exports no Campaign`).toBe(true);
    }
    expect(isCampaign({ name: 'x', share: 1 })).toBe(false);
  });
});

describe('the fuzz loop', () => {
  it('counts a thrown exception as a crash and saves its input, and an untyped rejection as a failure', async () => {
    const target: AnyTarget = {
      name: 'fake',
      what: 'a target that throws on every third input',
      weight: 1,
      trial: (rng) => {
        const n = rng.int(0, 1_000_000);
        return {
          show: () => `input ${n}`,
          check: () => {
            if (n % 3 === 0) throw new TypeError(`cannot read ${n % 2}`);
            return n % 3 === 1 ? { kind: 'rejected' } : { kind: 'untyped', why: 'no path' };
          },
        };
      },
    };
    const slice = await fuzzSlice(5, Date.now() + 10_000, 60, 0, 1, [target]);
    const c = slice.counts.fake!;
    expect(c.inputs).toBe(60);
    expect(c.crashes + c.rejected + c.untyped).toBe(60);
    expect(c.crashes).toBeGreaterThan(0);
    expect(c.untyped).toBeGreaterThan(0);
    // Distinct crash messages are listed once each, with the saved input and the replay command.
    const crash = slice.failures.find((f) => f.includes('threw TypeError'))!;
    const file = /input and stack: (\S+);/.exec(crash)![1]!;
    expect(readFileSync(file, 'utf8')).toMatch(/^input \d+\n\n--- threw ---\nTypeError: cannot read/);
    expect(crash).toMatch(/reproduce: node --import tsx torture\/replay.ts fuzz fake 5 \d+$/);
    expect(slice.failures.some((f) => f.includes('was rejected without a typed error: no path'))).toBe(true);
    rmSync(file);
  });
});
