import { ACCOUNT_MODES } from '../domain/assessment.ts';
import type { Budget } from '../domain/budget.ts';
import { dec } from '../domain/decimal.ts';
import { bufferChart, positionChart, priceChart, priceSymbols, stateStrip } from './account-charts.ts';
import { renderDecisionLog } from './decision-log.ts';
import { escapeHtml } from './html-escape.ts';
import { renderOrderTable } from './order-table.ts';
import { LINE_COLOURS, PURPOSE_MARKERS, STATE_COLOURS } from './report-palette.ts';
import type { AccountReport, ReportModel } from './report-model.ts';
import type { MarkerShape } from './svg-chart.ts';

/** The HTML id of an account's section (account ids are free text to the report, so they are not used). */
export function accountAnchor(index: number): string {
  return `account-${index + 1}`;
}

/** Up to this many accounts every section starts open; beyond, only the liquidated ones do. */
export const OPEN_SECTIONS = 8;

/** One account: states, prices with levels and orders, margin buffer, position, orders, decision log. */
export function renderAccountSection(model: ReportModel, account: AccountReport, index: number): string {
  const open = model.accounts.length <= OPEN_SECTIONS || (model.summary?.liquidated.includes(account.id) ?? false);
  const ctx = { model, account, idPrefix: accountAnchor(index) };
  const symbols = priceSymbols(ctx);
  const held = account.symbols.length > 0;
  return [
    `<section class="account" id="${accountAnchor(index)}" data-account="${escapeHtml(account.id)}">`,
    // A details element: a fleet of fifty accounts stays scannable, and it needs no script.
    `<details${open ? ' open' : ''}>`,
    `<summary><h2>Account <code>${escapeHtml(account.id)}</code> <span class="state-badge" style="background:${STATE_COLOURS[account.finalState]}">${escapeHtml(account.finalState)}</span></h2></summary>`,
    `<p class="budget">Budget: ${renderBudget(account.budget)}</p>`,
    stateLegend(),
    `<figure>${stateStrip(ctx)}</figure>`,
    held ? '' : '<p class="note">The account held and traded nothing; the marks of the run are shown for context.</p>',
    ...symbols.map((symbol, i) => `<figure>${priceChart(ctx, symbol, i)}${priceLegend(account, symbol)}</figure>`),
    `<figure>${bufferChart(ctx)}${bufferLegend(account.budget)}</figure>`,
    `<figure>${positionChart(ctx)}</figure>`,
    `<h3>Orders (${account.orders.length})</h3>`,
    renderOrderTable(account.orders),
    `<h3>Decision log</h3>`,
    renderDecisionLog(account.log),
    '</details>',
    '</section>',
  ].join('\n');
}

function renderBudget(budget: Budget): string {
  const parts: string[] = [];
  for (const [symbol, size] of Object.entries(budget.maxPositionSize ?? {}))
    parts.push(`maxPositionSize ${escapeHtml(symbol)} <b>${escapeHtml(size)}</b>`);
  const rules = ['maxGrossNotional', 'minMarginBuffer', 'panicMarginBuffer', 'sessionLossLimit'] as const;
  for (const rule of rules) if (budget[rule] !== undefined) parts.push(`${rule} <b>${escapeHtml(budget[rule]!)}</b>`);
  return parts.length > 0 ? parts.join(' · ') : 'no rules (nothing binds)';
}

/** The colours of the state bands. */
export function stateLegend(): string {
  const items = ACCOUNT_MODES.map(
    (mode) => `<span class="legend-item"><span class="swatch" style="background:${STATE_COLOURS[mode]}"></span>${mode}</span>`,
  );
  return `<div class="legend state-legend" aria-label="state legend"><span class="legend-title">States:</span>${items.join('')}</div>`;
}

/** The legend of a price chart: only what the chart shows. */
function priceLegend(account: AccountReport, symbol: string): string {
  const { budget } = account;
  const levels = account.levels[symbol] ?? [];
  const has = (pick: (l: (typeof levels)[number]) => string | null): boolean => levels.some((l) => pick(l) !== null);
  const lines = [
    lineItem('mark', LINE_COLOURS.mark),
    ...(has((l) => l.liquidation) ? [lineItem('liquidation price', LINE_COLOURS.liquidation)] : []),
    ...(has((l) => l.minBuffer) ? [lineItem(`buffer = minMarginBuffer ${budget.minMarginBuffer}`, LINE_COLOURS.minBuffer, '6 4')] : []),
    ...(has((l) => l.panicBuffer)
      ? [lineItem(`buffer = panicMarginBuffer ${budget.panicMarginBuffer}`, LINE_COLOURS.panicBuffer, '3 3')]
      : []),
  ];
  const orders = account.orders.filter((o) => o.symbol === symbol);
  const markers = Object.entries(PURPOSE_MARKERS)
    .filter(([purpose]) => orders.some((o) => o.purpose === purpose))
    .map(([, m]) => `<span class="legend-item">${markerIcon(m.shape, m.colour, false)}${m.label}</span>`);
  if (orders.some((o) => dec(o.filled).isZero()))
    markers.push(`<span class="legend-item">${markerIcon('circle', '#555555', true)}hollow: not filled</span>`);
  if (account.log.some((e) => e.kind === 'liquidation' && e.symbol === symbol)) {
    markers.push(`<span class="legend-item">${markerIcon('cross', LINE_COLOURS.liquidation, false)}liquidation</span>`);
  }
  const shown = has((l) => l.liquidation) || has((l) => l.minBuffer) || has((l) => l.panicBuffer);
  const estimate = heldTogether(account)
    ? ' While several symbols are held, the others stay at their marks and the blended maintenance rate is used: an estimate.'
    : '';
  const hint = shown
    ? `<span class="legend-hint">Levels: the mark at which the margin buffer would reach the value, with the position and equity of each risk record.${estimate}</span>`
    : '';
  return `<figcaption class="legend">${lines.join('')}${markers.join('')}${hint}</figcaption>`;
}

/** True when some risk record shows positions in more than one symbol. */
function heldTogether(account: AccountReport): boolean {
  const series = Object.values(account.position);
  const length = series[0]?.length ?? 0;
  for (let i = 0; i < length; i++) {
    if (
      series.filter((points) => points[i]?.value !== undefined && points[i]?.value !== null && !dec(points[i]!.value!).isZero()).length > 1
    )
      return true;
  }
  return false;
}

function bufferLegend(budget: Budget): string {
  const items = [
    lineItem('margin buffer (risk records)', LINE_COLOURS.marginBuffer),
    ...(budget.minMarginBuffer !== undefined
      ? [lineItem(`minMarginBuffer ${budget.minMarginBuffer}: de-risk below`, LINE_COLOURS.minBuffer, '6 4')]
      : []),
    ...(budget.panicMarginBuffer !== undefined
      ? [lineItem(`panicMarginBuffer ${budget.panicMarginBuffer}: panic exit below`, LINE_COLOURS.panicBuffer, '3 3')]
      : []),
  ];
  return `<figcaption class="legend">${items.join('')}</figcaption>`;
}

function lineItem(label: string, colour: string, dash?: string): string {
  const d = dash ? ` stroke-dasharray="${dash}"` : '';
  return `<span class="legend-item"><svg class="legend-icon" width="26" height="10" aria-hidden="true"><line x1="1" y1="5" x2="25" y2="5" stroke="${colour}" stroke-width="2"${d}/></svg>${escapeHtml(label)}</span>`;
}

function markerIcon(shape: MarkerShape, colour: string, hollow: boolean): string {
  const paint = hollow ? `fill="#ffffff" stroke="${colour}" stroke-width="1.6"` : `fill="${colour}"`;
  const body = {
    circle: `<circle cx="7" cy="7" r="4.5" ${paint}/>`,
    square: `<rect x="2.5" y="2.5" width="9" height="9" ${paint}/>`,
    diamond: `<path d="M7 1L13 7L7 13L1 7Z" ${paint}/>`,
    triangle: `<path d="M2 2.5L12 2.5L7 12Z" ${paint}/>`,
    cross: `<path d="M2 2L12 12M2 12L12 2" fill="none" stroke="${colour}" stroke-width="2.4"/>`,
  }[shape];
  return `<svg class="legend-icon" width="14" height="14" aria-hidden="true">${body}</svg>`;
}
