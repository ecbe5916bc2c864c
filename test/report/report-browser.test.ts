import { mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeHtmlReport } from '../../src/report/html-report.ts';
import { launchChromium } from '../dashboard/chromium.ts';
import { runScenarioFile, SHOWCASE, STRESS_PASS } from './report-scenarios.ts';

/** The report in a real headless Chromium: it renders offline, without errors, and looks like a report. */

const ARTIFACTS = resolve('test-artifacts');

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

interface Opened {
  page: Page;
  problems: string[];
  requests: string[];
}

/** Opens a report file, recording console errors, page errors, dialogs and every request that is not the file itself. */
async function open(path: string): Promise<Opened> {
  const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
  const url = pathToFileURL(path).href;
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on('request', (r) => {
    if (r.url() !== url) requests.push(r.url());
  });
  await page.goto(url, { waitUntil: 'load' });
  return { page, problems, requests };
}

describe('the HTML report in headless Chromium', () => {
  it('renders every chart with a size, offline and without errors, and is saved as a screenshot', async () => {
    const run = await runScenarioFile(SHOWCASE);
    mkdirSync(ARTIFACTS, { recursive: true });
    const path = join(ARTIFACTS, 'report.html');
    await writeHtmlReport(path, run.scenario, run.records);

    const { page, problems, requests } = await open(path);
    const charts = await page.$$eval('svg.chart', (svgs) =>
      svgs.map((svg) => {
        const box = svg.getBoundingClientRect();
        return { id: svg.id, width: box.width, height: box.height, shapes: svg.querySelectorAll('path, rect, circle, line').length };
      }),
    );
    const sections = await page.$$eval('section.account', (s) => s.map((e) => e.getAttribute('data-account')));
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
    await page.close();

    expect(problems).toEqual([]);
    expect(requests).toEqual([]);
    expect(sections).toEqual(run.scenario.accounts.map((a) => a.id));
    // Each account: a state strip, one price chart (ETHP), margin buffer and position.
    expect(charts).toHaveLength(4 * run.scenario.accounts.length);
    for (const chart of charts) {
      expect(chart.width, chart.id).toBeGreaterThanOrEqual(880);
      expect(chart.height, chart.id).toBeGreaterThanOrEqual(60);
      expect(chart.shapes, chart.id).toBeGreaterThan(10);
    }
    expect(overflow, 'the page scrolls sideways').toBeLessThanOrEqual(0);
    expect(statSync(join(ARTIFACTS, 'report.png')).size).toBeGreaterThan(50_000);
  }, 60_000);

  it('shows a hostile scenario name as text and runs nothing', async () => {
    const run = await runScenarioFile(STRESS_PASS);
    const name = '<script>alert(1)</script><img src=x onerror=alert(2)>';
    const path = join(mkdtempSync(join(tmpdir(), 'riskwarden-report-')), 'evil.html');
    await writeHtmlReport(path, { ...run.scenario, name }, run.records);

    const { page, problems, requests } = await open(path);
    const heading = await page.textContent('h1');
    const title = await page.title();
    const injected = await page.$$eval('main script, main img', (e) => e.length);
    await page.close();

    expect(problems).toEqual([]);
    expect(requests).toEqual([]);
    expect(heading).toBe(name);
    expect(title).toBe(`riskwarden report: ${name}`);
    expect(injected).toBe(0);
  }, 60_000);
});
