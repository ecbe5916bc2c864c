import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { launchChromium } from './chromium.ts';
import { ADMIN_TOKEN, READ_TOKEN, startDashboardFleet, type DashboardFleet } from './dashboard-fleet.ts';

/**
 * The dashboard in real headless Chromium against the real stack: the dashboard-scenario run (simulator,
 * venue client, supervisor) at a watchable pace, the HTTP API with its live socket, the static files.
 * The tests run in order on one page, as a person would: look at the fleet, open alpha, watch it change
 * state, then act on stopouts. Screenshots go to test-artifacts/dashboard/.
 */

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/dashboard/', import.meta.url));
const LONG = 60_000;

let fleet: DashboardFleet;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const consoleErrors: Array<{ text: string; url: string }> = [];
const requested: string[] = [];

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
}

async function rowIds(p: Page = page): Promise<string[]> {
  return p.$$eval('#fleet-body tr', (rows) => rows.map((r) => (r as HTMLElement).dataset.account ?? ''));
}

async function badgeOf(account: string, p: Page = page): Promise<string> {
  return (await p.textContent(`#fleet-body tr[data-account="${account}"] .badge`)) ?? '';
}

async function waitForBadge(account: string, state: string, p: Page = page, timeout = 30_000): Promise<void> {
  await p.waitForFunction(
    ([id, want]) => document.querySelector(`#fleet-body tr[data-account="${id}"] .badge`)?.textContent === want,
    [account, state] as const,
    { timeout },
  );
}

async function resultText(): Promise<{ kind: string; text: string }> {
  await page.waitForSelector('#action-result:not([hidden])');
  return page.$eval('#action-result', (el) => ({ kind: (el as HTMLElement).dataset.kind ?? '', text: el.textContent ?? '' }));
}

/** Waits for the next action result after `act` (the box is cleared first, so an old one cannot match). */
async function actAndRead(act: () => Promise<void>): Promise<{ kind: string; text: string }> {
  await page.$eval('#action-result', (el) => {
    (el as HTMLElement).hidden = true;
    el.replaceChildren();
  });
  await act();
  return resultText();
}

function stopoutItem(key: string): string {
  return `#stopout-list li[data-key="${key}"]`;
}

/** Why the setup failed (no Chromium, say): every test then fails with it rather than being skipped. */
let setupError: Error | undefined;

beforeAll(async () => {
  try {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
    // Held at 3 s: alpha has bought, gamma has sold, nothing has happened yet that the page must see live.
    fleet = await startDashboardFleet({ holdAt: 3000, paceMs: 150 });
    await fleet.reached(3000);
  } catch (error) {
    setupError = error as Error;
    return;
  }
  context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push({ text: message.text(), url: message.location().url });
  });
  page.on('pageerror', (error) => consoleErrors.push({ text: `uncaught: ${error.message}`, url: '' }));
  page.on('request', (request) => requested.push(request.url()));
  page.on('websocket', (socket) => requested.push(socket.url()));
}, LONG);

beforeEach(() => {
  if (setupError) throw setupError;
});

afterAll(async () => {
  await browser?.close();
  await fleet?.stop();
}, LONG);

describe('dashboard in Chromium', () => {
  it(
    'signs in with ?token=, drops the token from the address and shows the fleet',
    async () => {
      const response = await page.goto(`${fleet.url}/?token=${ADMIN_TOKEN}`);
      expect(response?.status()).toBe(200);
      expect(new URL(page.url()).search).toBe('');
      await page.waitForSelector('#fleet-body tr[data-account="gamma"]');
      expect(await rowIds()).toEqual(['alpha', 'beta', 'gamma']);
      expect(await badgeOf('alpha')).toBe('trading');
      expect(await page.$eval('#fleet-body tr[data-account="alpha"] .badge', (b) => getComputedStyle(b).backgroundColor)).toBe(
        'rgb(46, 157, 74)',
      );
      // alpha is long 3 ETHP at about 2000: a position, a notional, a buffer gauge with both thresholds.
      expect(await page.textContent('#fleet-body tr[data-account="alpha"] .col-position')).toBe('3 ETHP');
      expect(await page.$$eval('#fleet-body tr[data-account="alpha"] .gauge .threshold', (t) => t.map((e) => e.className))).toEqual([
        'threshold min',
        'threshold panic',
      ]);
      expect(await page.$eval('#fleet-body tr[data-account="alpha"] .gauge', (g) => g.getAttribute('title'))).toMatch(
        /^margin buffer \d+\.\d\d % — min 10\.00 %, panic 3\.00 %$/,
      );
      expect(await page.textContent('#fleet-body tr[data-account="beta"] .col-position')).toBe('flat');
      expect(await page.textContent('#fleet-body tr[data-account="gamma"] .col-position')).toBe('−2 ETHP');
      expect(await page.$$eval('#portfolio-filter option', (o) => o.map((e) => (e as HTMLOptionElement).value))).toEqual([
        '',
        'core',
        'satellite',
      ]);
      await page.waitForSelector('#conn[data-state="live"]');
    },
    LONG,
  );

  it(
    'sorts by a clicked header and filters by portfolio',
    async () => {
      await page.click('th[data-sort="grossNotional"] button');
      // alpha 3 × ~2000 > gamma 2 × ~2000 > beta 0; the first click on a number sorts largest first.
      expect(await rowIds()).toEqual(['alpha', 'gamma', 'beta']);
      expect(await page.getAttribute('th[data-sort="grossNotional"]', 'aria-sort')).toBe('descending');
      await page.click('th[data-sort="grossNotional"] button');
      expect(await rowIds()).toEqual(['beta', 'gamma', 'alpha']);
      await page.click('th[data-sort="id"] button');
      expect(await rowIds()).toEqual(['alpha', 'beta', 'gamma']);
      await page.click('th[data-sort="id"] button');
      expect(await rowIds()).toEqual(['gamma', 'beta', 'alpha']);
      await page.selectOption('#portfolio-filter', 'core');
      expect(await rowIds()).toEqual(['beta', 'alpha']);
      expect(await page.textContent('#fleet-count')).toBe('2 of 3 accounts');
      await page.selectOption('#portfolio-filter', 'satellite');
      expect(await rowIds()).toEqual(['gamma']);
      await page.selectOption('#portfolio-filter', '');
      await page.click('th[data-sort="id"] button');
      expect(await rowIds()).toEqual(['alpha', 'beta', 'gamma']);
    },
    LONG,
  );

  it(
    'opens an account: statechart with its state marked, timeline chart, decision log',
    async () => {
      await page.click('#fleet-body tr[data-account="alpha"]');
      await page.waitForSelector('#account-view:not([hidden])');
      await page.waitForSelector('#statechart svg g.node.is-current');
      expect(await page.getAttribute('#statechart', 'data-active')).toBe('trading');
      expect(await page.$eval('#statechart g.node.is-current > title', (t) => t.textContent)).toBe('account.trading');
      expect(await page.$$eval('#statechart g.is-active', (g) => g.length)).toBe(1);
      await page.waitForSelector('#timeline-chart svg .mark-line', { state: 'attached' });
      expect(await page.$$eval('#timeline-chart .order-marker.purpose-entry.status-filled', (m) => m.length)).toBe(1);
      expect(await page.$$eval('#timeline-chart line[class^="threshold-"]', (l) => l.map((e) => e.getAttribute('class')))).toEqual([
        'threshold-min',
        'threshold-panic',
      ]);
      expect(await page.$$eval('#decision-log tbody tr', (rows) => rows.map((r) => r.textContent))).toEqual([
        '0.0allowedbuy 3 ETHP market',
      ]);
      expect(new URL(page.url()).hash).toBe('#account=alpha');
      await shot('01-fleet-and-alpha-trading');
    },
    LONG,
  );

  it('follows alpha live: the badge and the statechart move through entries-blocked and de-risking without a reload', async () => {
    // Every badge text and every highlighted path the page shows, however briefly (alpha de-risks in one step).
    await page.evaluate(() => {
      const w = window as unknown as { seenBadges: string[]; seenChart: string[]; sameDocument: boolean };
      w.seenBadges = [];
      w.seenChart = [];
      w.sameDocument = true;
      const row = document.querySelector('#fleet-body tr[data-account="alpha"]')!;
      new MutationObserver(() => {
        const text = row.querySelector('.badge')?.textContent ?? '';
        if (w.seenBadges[w.seenBadges.length - 1] !== text) w.seenBadges.push(text);
      }).observe(row, { subtree: true, childList: true, characterData: true });
      const chart = document.getElementById('statechart')!;
      new MutationObserver(() => {
        const active = chart.dataset.active ?? '';
        if (active && w.seenChart[w.seenChart.length - 1] !== active) w.seenChart.push(active);
      }).observe(chart, { attributes: true, attributeFilter: ['data-active'] });
    });
    fleet.release();

    await waitForBadge('alpha', 'entries-blocked');
    await page.waitForFunction(() => document.getElementById('statechart')?.dataset.active?.startsWith('entries-blocked'));
    expect(await page.$eval('#statechart g.node.is-current > title', (t) => t.textContent)).toBe('account.entries-blocked');
    await page.waitForSelector('#decision-log tbody tr.blocked');
    expect(await page.$$eval('#decision-log tbody tr.blocked code.rule', (c) => c.map((e) => e.textContent))).toEqual([
      'max-position-size',
      'state',
    ]);
    await shot('02-alpha-entries-blocked');

    // ETHP falls; at 39 s alpha's buffer goes under minMarginBuffer; at 56 s portfolio core's loss stops it out.
    await waitForBadge('alpha', 'stopped-out', page, 45_000);
    await page.waitForFunction(() => document.getElementById('statechart')?.dataset.active?.startsWith('stopped-out'));
    fleet.setPace(250);
    const seen = await page.evaluate(() => {
      const w = window as unknown as { seenBadges: string[]; seenChart: string[]; sameDocument: boolean };
      return { seenBadges: w.seenBadges, seenChart: w.seenChart, sameDocument: w.sameDocument };
    });
    expect(seen.sameDocument).toBe(true);
    const order = (list: string[], states: string[]) => states.map((s) => list.findIndex((x) => x === s || x.startsWith(`${s}.`)));
    const badgeOrder = order(seen.seenBadges, ['entries-blocked', 'de-risking', 'stopped-out']);
    expect(
      badgeOrder.every((i) => i >= 0),
      `badges seen: ${seen.seenBadges.join(' → ')}`,
    ).toBe(true);
    expect([...badgeOrder].sort((a, b) => a - b)).toEqual(badgeOrder);
    const chartOrder = order(seen.seenChart, ['entries-blocked', 'de-risking', 'stopped-out']);
    expect(
      chartOrder.every((i) => i >= 0),
      `statechart highlights seen: ${seen.seenChart.join(' → ')}`,
    ).toBe(true);
    expect([...chartOrder].sort((a, b) => a - b)).toEqual(chartOrder);
    // One state lit at a time: the current node and its ancestors, nothing else.
    // Read together: alpha keeps moving inside stopped-out (holding, reducing.…) while it reduces.
    const { lit, active } = await page.$eval('#statechart', (chart) => ({
      lit: [...chart.querySelectorAll('g.is-active > title')].map((e) => e.textContent),
      active: (chart as HTMLElement).dataset.active ?? '',
    }));
    const parts = active.split('.');
    expect(lit.sort()).toEqual(
      parts.map((_, i) => `${i < parts.length - 1 ? 'cluster_' : ''}account.${parts.slice(0, i + 1).join('.')}`).sort(),
    );
    expect(await page.textContent('#account-badge .badge')).toBe('stopped-out');
    // The chart drew alpha's reduce orders and its state bands from the live records.
    await page.waitForSelector('#timeline-chart .order-marker.purpose-reduce', { state: 'attached' });
    expect(await page.$$eval('#activity li', (li) => li.map((e) => e.textContent ?? ''))).toEqual(
      expect.arrayContaining([
        expect.stringContaining('alpha: entries-blocked → de-risking'),
        expect.stringContaining('stopout set on portfolio core'),
      ]),
    );
    await page.waitForTimeout(1500); // let the row flash fade for the picture
    await shot('03-alpha-stopped-out');
  }, 90_000);

  it(
    'sets a manual stopout from the form and resets it from the list',
    async () => {
      await page.selectOption('#so-scope', 'account');
      await page.fill('#so-id', 'gamma');
      await page.fill('#so-reason', 'manual');
      const set = await actAndRead(() => page.click('#so-set'));
      expect(set).toEqual({ kind: 'ok', text: 'doneset manual on account gamma: ok' });
      await page.waitForSelector(stopoutItem('account:gamma:manual'));
      await waitForBadge('gamma', 'stopped-out');
      await page.waitForFunction(
        () => document.querySelector('#fleet-body tr[data-account="gamma"] .col-stopouts')?.textContent === 'accountgamma manual',
      );
      await shot('04-manual-stopout-on-gamma');

      const reset = await actAndRead(() => page.click(`${stopoutItem('account:gamma:manual')} button:text-is("Reset")`));
      expect(reset).toEqual({ kind: 'ok', text: 'donereset manual on account gamma: ok' });
      await page.waitForSelector(stopoutItem('account:gamma:manual'), { state: 'detached' });
      await waitForBadge('gamma', 'trading');
    },
    LONG,
  );

  it(
    'shows why a reset is refused while the limit still breaches, then moves startTime and resets',
    async () => {
      const key = 'portfolio:core:day-equity-difference';
      await page.waitForSelector(stopoutItem(key));
      const refused = await actAndRead(() => page.click(`${stopoutItem(key)} button:text-is("Reset")`));
      expect(refused.kind).toBe('refused');
      expect(refused.text).toMatch(
        /^refusedreset day-equity-difference on portfolio core — refused: day-equity-difference still breached: .+; move startTime on portfolio core to now first, then reset$/,
      );
      expect(await page.$eval('#action-result', (el) => getComputedStyle(el).color)).toBe('rgb(147, 55, 13)');
      await shot('05-reset-refused');
      expect(await page.$$(stopoutItem(key))).toHaveLength(1);

      const moved = await actAndRead(() => page.click(`${stopoutItem(key)} button:text-is("Move startTime")`));
      expect(moved).toEqual({ kind: 'ok', text: 'donemove startTime on portfolio core: ok' });
      const reset = await actAndRead(() => page.click(`${stopoutItem(key)} button:text-is("Reset")`));
      expect(reset).toEqual({ kind: 'ok', text: 'donereset day-equity-difference on portfolio core: ok' });
      await page.waitForSelector(stopoutItem(key), { state: 'detached' });
      await page.waitForSelector('#stopouts-empty:not([hidden])');
      await waitForBadge('beta', 'trading');
      await shot('06-core-reset');
    },
    LONG,
  );

  it(
    'shows the API error of a bad request as text, not markup',
    async () => {
      await page.fill('#so-id', 'gamma');
      await page.fill('#so-reason', '<img src=/x onerror="window.pwned=1">');
      const result = await actAndRead(() => page.click('#so-set'));
      expect(result.kind).toBe('error');
      expect(result.text).toContain('<img src=/x onerror=');
      expect(await page.$$('#action-result img')).toHaveLength(0);
      expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
      expect(requested.some((url) => new URL(url).pathname === '/x')).toBe(false);
      await page.fill('#so-reason', 'manual');
    },
    LONG,
  );

  it('made no request outside its origin and logged no error but the refused reset', async () => {
    const origin = new URL(fleet.url);
    const outside = requested.filter((url) => new URL(url).host !== origin.host);
    expect(outside).toEqual([]);
    const sockets = requested.filter((url) => url.startsWith('ws'));
    expect(sockets.length).toBeGreaterThan(0);
    expect(new Set(sockets)).toEqual(new Set([`ws://${origin.host}/api/v1/live`]));
    expect(requested).toEqual(expect.arrayContaining([`${fleet.url}/app.js`, `${fleet.url}/style.css`, `${fleet.url}/api/v1/fleet`]));
    // Chromium reports every 4xx answer to fetch on the console; the 409 of the refused reset and the 400
    // of the bad reason are the answers those tests asked for.
    const unexpected = consoleErrors.filter(
      (e) =>
        !(/status of 409/.test(e.text) && e.url.endsWith('/api/v1/stopouts/reset')) &&
        !(/status of 400/.test(e.text) && e.url.endsWith('/api/v1/stopouts')),
    );
    expect(unexpected).toEqual([]);
    expect(fleet.problems).toEqual([]);
  });
});

describe('dashboard with a read token', () => {
  it(
    'shows that acting needs an admin token',
    async () => {
      const readContext = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
      try {
        const reader = await readContext.newPage();
        await reader.goto(`${fleet.url}/?token=${READ_TOKEN}`);
        await reader.waitForSelector('#fleet-body tr[data-account="alpha"]');
        await reader.fill('#so-id', 'beta');
        await reader.click('#so-set');
        await reader.waitForSelector('#action-result:not([hidden])');
        expect(await reader.getAttribute('#action-result', 'data-kind')).toBe('error');
        expect(await reader.textContent('#action-result')).toBe('errorset manual on account beta — forbidden: this needs an admin token');
        expect(await badgeOf('beta', reader)).toBe('trading');
      } finally {
        await readContext.close();
      }
    },
    LONG,
  );
});

describe('dashboard without its live socket', () => {
  it(
    'retries the socket with growing delays and polls the fleet every 2 s meanwhile',
    async () => {
      const pollContext = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
      try {
        let attempts = 0;
        // The socket is refused at once on every attempt: the page must fall back to polling.
        await pollContext.routeWebSocket(/\/api\/v1\/live$/, (ws) => {
          attempts += 1;
          ws.close({ code: 1011, reason: 'down for the test' });
        });
        // Every text the connection badge shows, in order: the page announces each retry's delay there.
        await pollContext.addInitScript(() => {
          const shown: string[] = [];
          (window as unknown as { connTexts: string[] }).connTexts = shown;
          new MutationObserver(() => {
            const text = document.getElementById('conn')?.textContent ?? '';
            if (text !== shown.at(-1)) shown.push(text);
          }).observe(document, { subtree: true, childList: true, characterData: true });
        });
        const offline = await pollContext.newPage();
        await offline.goto(`${fleet.url}/?token=${ADMIN_TOKEN}`);
        await offline.waitForSelector('#conn[data-state="down"]');
        expect(await offline.textContent('#conn')).toMatch(/^live feed down — polling every 2 s, retry in \d+(\.\d)? s$/);
        await waitForBadge('gamma', 'trading', offline);

        // A change made elsewhere reaches the page through the polls alone.
        const set = await fetch(`${fleet.url}/api/v1/stopouts`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ scope: 'account', id: 'gamma', reason: 'manual' }),
        });
        expect(set.status).toBe(200);
        await waitForBadge('gamma', 'stopped-out', offline, 6000);
        await offline.waitForSelector(stopoutItem('account:gamma:manual'), { timeout: 6000 });
        const reset = await fetch(`${fleet.url}/api/v1/stopouts/reset`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ scope: 'account', id: 'gamma', reason: 'manual' }),
        });
        expect(reset.status).toBe(200);
        await waitForBadge('gamma', 'trading', offline, 6000);

        // Backoff: 0.5 s, 1 s, 2 s, … between attempts. Behaviour, not time: the delays the page planned and
        // announced, one per refused attempt, not gaps measured on the wall clock.
        expect(attempts).toBeGreaterThanOrEqual(3);
        const shown = await offline.evaluate(() => (window as unknown as { connTexts: string[] }).connTexts);
        const planned = shown.flatMap((text) => {
          const retry = /retry in (\d+(?:\.\d)?) s$/.exec(text);
          return retry ? [Number(retry[1])] : [];
        });
        expect(planned.slice(0, 3)).toEqual([0.5, 1, 2]);
        expect(planned.length).toBeGreaterThanOrEqual(attempts - 1);
        await offline.screenshot({ path: `${ARTIFACTS}07-polling-fallback.png` });
      } finally {
        await pollContext.close();
      }
    },
    LONG,
  );
});
