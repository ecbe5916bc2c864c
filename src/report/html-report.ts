import { writeFile } from 'node:fs/promises';
import type { ScenarioConfig } from '../config/scenario-schema.ts';
import type { TimelineRecord } from '../timeline/timeline-record.ts';

/** Writes the self-contained HTML report of a scenario run. */
export async function writeHtmlReport(path: string, scenario: ScenarioConfig, records: readonly TimelineRecord[]): Promise<void> {
  const summary = records.find((r) => r.kind === 'summary');
  const body = `<!doctype html><meta charset="utf-8"><title>${escape(scenario.name)}</title><h1>${escape(scenario.name)}</h1><pre>${escape(JSON.stringify(summary, null, 2))}</pre>`;
  await writeFile(path, body);
}

function escape(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
