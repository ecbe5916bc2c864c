/**
 * The interface every `npm run torture` campaign implements (torture/run.ts gives each its share of the
 * time budget and writes docs/reliability.md from the results). A campaign stops by `deadline`, reports
 * its figures honestly (what it ran, not what it hoped to run) and lists each failure with the seed or
 * command that reproduces it.
 */
export interface CampaignOptions {
  seed: number;
  deadline: number /* epoch ms by which to stop */;
  log: (line: string) => void;
  quick: boolean /* the short version in npm test */;
}

export interface CampaignResult {
  name: string;
  /** figures for docs/reliability.md, e.g. {runs: 10400, crashes: 0} */
  figures: Record<string, number | string>;
  /** each failure with the seed or command that reproduces it */
  failures: string[];
}

export interface Campaign {
  name: string;
  /** share of the time budget, 0..1 */
  share: number;
  run(options: CampaignOptions): Promise<CampaignResult>;
}
