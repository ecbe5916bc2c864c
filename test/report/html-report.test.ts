import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfigDocument } from '../../src/config/load.ts';
import type { ScenarioConfig } from '../../src/config/scenario-schema.ts';
import { dec } from '../../src/domain/decimal.ts';
import { renderHtmlReport, writeHtmlReport } from '../../src/report/html-report.ts';
import type { TimelineRecord } from '../../src/timeline/timeline-record.ts';
import { runScenarioFile, SHOWCASE, STRESS_PASS, type ReportRun } from './report-scenarios.ts';

const STATES = ['trading', 'entries-blocked', 'de-risking', 'panic-exit', 'stopped-out'];

/** The charts an account gets: a state strip, a price chart per symbol it held or traded (or every marked symbol), buffer, position. */
function expectedCharts(run: ReportRun, account: string): number {
  const symbols = new Set<string>();
  for (const r of run.records) {
    if (!('account' in r) || r.account !== account) continue;
    if (r.kind === 'order' || r.kind === 'liquidation') symbols.add(r.symbol);
    if (r.kind === 'decision') symbols.add(r.order.symbol);
    if (r.kind === 'risk') for (const [s, size] of Object.entries(r.position)) if (!dec(size).isZero()) symbols.add(s);
  }
  const marked = new Set(run.records.flatMap((r) => (r.kind === 'mark' ? [r.symbol] : [])));
  return 3 + (symbols.size > 0 ? symbols.size : marked.size);
}

/** The match with some context, so a failure shows where instead of the whole page. */
function firstMatch(html: string, re: RegExp): string | null {
  const m = re.exec(html);
  return m ? html.slice(Math.max(0, m.index - 60), m.index + 60) : null;
}

function sectionOf(html: string, account: string): string {
  const start = html.indexOf(`data-account="${account}"`);
  expect(start, `section of ${account}`).toBeGreaterThan(-1);
  return html.slice(start, html.indexOf('</section>', start));
}

describe.each([
  ['stress-pass', STRESS_PASS],
  ['report-showcase', SHOWCASE],
])('the HTML report of %s', (_name, file) => {
  let run: ReportRun;
  let html: string;
  let path: string;

  beforeAll(async () => {
    run = await runScenarioFile(file);
    path = join(mkdtempSync(join(tmpdir(), 'riskwarden-report-')), 'report.html');
    await writeHtmlReport(path, run.scenario, run.records);
    html = readFileSync(path, 'utf8');
  });

  it('is one complete HTML document', () => {
    expect(html.startsWith('<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">')).toBe(true);
    expect(html.trimEnd().endsWith('</body>\n</html>')).toBe(true);
    expect(html).toContain(`<title>riskwarden report: ${run.scenario.name}</title>`);
    for (const tag of ['section', 'svg', 'table', 'figure']) {
      expect(html.split(`<${tag}`).length, `<${tag}> opened as often as closed`).toBe(html.split(`</${tag}>`).length);
    }
    expect(html).toBe(renderHtmlReport(run.scenario, run.records));
  });

  it('loads nothing: no URL, no script, a policy that forbids fetching', () => {
    // Only same-document references (clip paths: url(#…)) are allowed.
    expect(firstMatch(html, /https?:\/\//i)).toBeNull();
    expect(firstMatch(html, /<script/i)).toBeNull();
    expect(firstMatch(html, /<link|<img|<iframe|<object|<embed|@import|url\((?!#)|\shref="(?!#)/i)).toBeNull();
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
  });

  it('has the header and the summary as a table', () => {
    const summary = run.records.find((r) => r.kind === 'summary');
    if (summary?.kind !== 'summary') throw new Error('the run wrote no summary record');
    expect(html).toContain(`<h1>${run.scenario.name}</h1>`);
    expect(html).toContain(`seed <b>${run.scenario.seed}</b>`);
    expect(html).toContain(`start <b>${run.scenario.start}</b>`);
    expect(html).toContain(`duration <b>${run.scenario.until / 1000} s`);
    const table = html.slice(html.indexOf('<table class="summary">'), html.indexOf('</table>', html.indexOf('<table class="summary">')));
    for (const [account, state] of Object.entries(summary.finalStates)) {
      expect(table).toContain(`<code>${account}</code>`);
      expect(table).toContain(`</span>${state}</td>`);
    }
    expect(table).toContain('max reductions in flight');
    expect(table).toContain('blocked entries');
  });

  it('has a section per account with its charts and the state legend', () => {
    for (const account of run.scenario.accounts) {
      const section = sectionOf(html, account.id);
      expect(section).toContain(`<h2>Account <code>${account.id}</code>`);
      expect(section.split('<svg class="chart"').length - 1).toBe(expectedCharts(run, account.id));
      expect(section).toContain('class="legend state-legend"');
      for (const state of STATES) expect(section).toContain(`</span>${state}</span>`);
      expect(section).toContain('Margin buffer');
      expect(section).toContain('Position (signed size)');
    }
  });

  it('lists every order of the run in its account’s table and marks it on the price chart', () => {
    const orders = run.records.filter((r): r is Extract<TimelineRecord, { kind: 'order' }> => r.kind === 'order');
    expect(orders.length).toBeGreaterThan(0);
    for (const order of orders) {
      const section = sectionOf(html, order.account);
      expect(section).toContain(`<td><code>${order.orderId}</code></td>`);
      expect(section).toContain(`<title>${(order.t / 1000).toString()} s ${order.orderId}: ${order.purpose} ${order.side} ${order.amount}`);
    }
  });

  it('logs blocked entries with their rules, stopouts and operator actions with their results', () => {
    for (const r of run.records) {
      if (r.kind === 'decision' && !r.allowed) {
        const section = sectionOf(html, r.account);
        for (const rule of r.rules) expect(section).toContain(`<code class="rule">${rule}</code>`);
      }
      if (r.kind === 'operator') {
        const shown = r.result === 'ok' ? '<b class="ok">ok</b>' : `<b class="refused">refused</b>: ${r.reason}`;
        expect(html).toContain(`${r.scope} <code>${r.id}</code> → ${shown}`);
      }
      if (r.kind === 'stopout') expect(html).toContain(`<td class="event ${r.action === 'set' ? 'bad' : 'good'}">stopout ${r.action}</td>`);
    }
  });
});

describe('the report of the showcase run', () => {
  it('draws de-risking, panic and every order purpose', async () => {
    const run = await runScenarioFile(SHOWCASE);
    const html = renderHtmlReport(run.scenario, run.records);
    const purposes = new Set(run.records.flatMap((r) => (r.kind === 'order' ? [r.purpose] : [])));
    // The fixture is built to need all four; if the runtime changes so that it does not, the fixture must change.
    expect([...purposes].sort()).toEqual(['close', 'entry', 'exit', 'reduce']);
    expect(html).toContain('<h2>Account <code>gamma</code>');
    expect(html).toMatch(/<rect class="band"[^>]*fill="#7b3fb5"/); // a de-risking band
    expect(html).toMatch(/<rect class="band"[^>]*fill="#d62828"/); // a panic-exit band
    expect(html).toContain('liquidation price');
  });
});

describe('escaping', () => {
  const evil = '<script>alert(1)</script>';

  it('escapes a scenario name that is markup', async () => {
    const { scenario, records } = await runScenarioFile(STRESS_PASS);
    const html = renderHtmlReport({ ...scenario, name: evil }, records);
    expect(html).not.toContain(evil);
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('<title>riskwarden report: &lt;script&gt;alert(1)&lt;/script&gt;</title>');
    expect(html).toContain('<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>');
  });

  it('escapes every string taken from the records', async () => {
    const { scenario } = await runScenarioFile(STRESS_PASS);
    const img = '<img src=x onerror="alert(2)">';
    const records: TimelineRecord[] = [
      { t: 0, kind: 'mark', symbol: 'ETHP', price: '2000' },
      {
        t: 0,
        kind: 'order',
        account: 'alpha',
        orderId: `o-${img}`,
        symbol: 'ETHP',
        side: 'buy',
        amount: '1',
        price: '0',
        type: 'market',
        purpose: 'entry',
      },
      { t: 0, kind: 'order-update', account: 'alpha', orderId: `o-${img}`, status: 'rejected', filled: '0', reason: img },
      { t: 1000, kind: 'cancel', account: 'alpha', orderId: 'o-2', reason: img },
      {
        t: 1000,
        kind: 'decision',
        account: 'alpha',
        allowed: false,
        rules: [img],
        order: { symbol: 'ETHP', side: 'buy', amount: '1', type: 'market' },
        reasons: [img],
      },
      {
        t: 2000,
        kind: 'state',
        account: 'alpha',
        from: 'trading',
        to: 'entries-blocked',
        reason: img,
        detail: img,
        numbers: { [img]: img },
      },
      { t: 3000, kind: 'stopout', scope: 'fleet', id: '*', reason: img, closePositions: false, action: 'set' },
      { t: 4000, kind: 'operator', action: img, scope: 'fleet', id: '*', result: 'refused', reason: img },
    ];
    const html = renderHtmlReport(scenario, records);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('onerror="');
    expect(html).toContain('&lt;img src=x onerror=&quot;alert(2)&quot;&gt;');
  });
});

describe('riskwarden simulate --report', () => {
  it('writes the report through the CLI', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'riskwarden-report-cli-')), 'report.html');
    const result = spawnSync(process.execPath, ['bin/riskwarden.js', 'simulate', STRESS_PASS, '--report', path], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status, result.stderr).toBe(0);
    const html = readFileSync(path, 'utf8');
    expect(html).toContain('<h1>stress-pass</h1>');
    expect(html).toContain('<svg class="chart"');
  }, 60_000);
});

describe('a large fleet', () => {
  it('starts only the liquidated accounts open beyond eight accounts', () => {
    const ids = Array.from({ length: 9 }, (_, i) => `acct-${i + 1}`);
    const loaded = parseConfigDocument(
      {
        name: 'nine',
        accounts: ids.map((id) => ({ id, collateral: '1000', signal: { kind: 'scripted', orders: [] } })),
        marks: { ETHP: [{ at: '0s', price: '2000' }] },
        until: '10s',
      },
      { expect: 'scenario' },
    );
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const records: TimelineRecord[] = [
      { t: 0, kind: 'mark', symbol: 'ETHP', price: '2000' },
      {
        t: 10_000,
        kind: 'summary',
        liquidated: ['acct-3'],
        finalStates: Object.fromEntries(ids.map((id) => [id, 'trading'])),
        orders: {},
        maxReductionsInFlight: {},
        blockedEntries: {},
      },
    ];
    const html = renderHtmlReport(loaded.value as ScenarioConfig, records);
    const open = ids.filter((id) => sectionOf(html, id).includes('<details open>'));
    expect(open).toEqual(['acct-3']);
    expect(html).toContain('9 accounts: only liquidated accounts start open');
  });
});
