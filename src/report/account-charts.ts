import { dec, type DecimalString } from '../domain/decimal.ts';
import { niceDomain } from './axis-ticks.ts';
import { LINE_COLOURS, PURPOSE_MARKERS, STATE_COLOURS } from './report-palette.ts';
import { plotValue, rounded, seconds } from './report-format.ts';
import type { AccountReport, LevelPoint, OrderRow, ReportModel, StateBand, TimePoint } from './report-model.ts';
import { renderChart, type ChartBand, type ChartMarker, type ChartPoint, type ChartSeries, type ChartSpec } from './svg-chart.ts';

/** The charts of one account's section, each as inline SVG. */

const CHART_WIDTH = 900;
const CHART_HEIGHT = 220;
const STRIP_HEIGHT = 64;
const TIME_LABEL = 'time since start (s)';

/** A level may widen the price axis to at most this many spans of the marks beyond them; further is off scale. */
const LEVEL_REACH = 1;

interface ChartContext {
  model: ReportModel;
  account: AccountReport;
  /** Unique prefix for element ids. */
  idPrefix: string;
}

function xDomain(model: ReportModel): [number, number] {
  return [0, Math.max(model.end, 1000) / 1000];
}

/** State bands behind a chart; labelled only in the state strip, where they are the subject. */
function bands(account: AccountReport, labelled = false): ChartBand[] {
  return account.bands.map((b) => ({
    from: b.from / 1000,
    to: b.to / 1000,
    colour: STATE_COLOURS[b.state],
    title: bandTitle(b),
    ...(labelled ? { label: b.state } : {}),
  }));
}

function bandTitle(b: StateBand): string {
  const why = b.reason === 'start' ? 'initial state' : `reason: ${b.reason}`;
  return `${b.state} ${seconds(b.from)} s – ${seconds(b.to)} s (${why}${b.detail ? `; ${b.detail}` : ''})`;
}

/** The top-level state as a strip of labelled bands. */
export function stateStrip(ctx: ChartContext): string {
  return renderChart({
    id: `${ctx.idPrefix}-states`,
    title: 'State',
    width: CHART_WIDTH,
    height: STRIP_HEIGHT,
    x: { domain: xDomain(ctx.model), label: TIME_LABEL },
    bands: bands(ctx.account, true),
    bandOpacity: 0.55,
  });
}

/** The symbols the price charts show: those the account held or traded, or every marked symbol if none. */
export function priceSymbols(ctx: Pick<ChartContext, 'model' | 'account'>): string[] {
  if (ctx.account.symbols.length > 0) return ctx.account.symbols;
  return Object.keys(ctx.model.marks).sort();
}

/** Mark price of one symbol with the account's price levels and its orders. */
export function priceChart(ctx: ChartContext, symbol: string, index: number): string {
  const { model, account } = ctx;
  const end = model.end / 1000;
  const marks = model.marks[symbol] ?? [];
  const markPoints = marks.map((p) => point(p));
  const markers = [
    ...account.orders.filter((o) => o.symbol === symbol).flatMap((o) => orderMarker(o, marks)),
    ...account.log.flatMap((e) =>
      e.kind === 'liquidation' && e.symbol === symbol ? liquidationMarker(e.t, e.price ?? markAt(marks, e.t)) : [],
    ),
  ];
  const levels = account.levels[symbol] ?? [];
  const levelSeries: { series: ChartSeries; last: number | null; name: string }[] = [];
  const addLevel = (
    name: string,
    pick: (l: LevelPoint) => DecimalString | null,
    colour: string,
    dash: string | undefined,
    label: (v: DecimalString) => string,
  ): void => {
    const points: ChartPoint[] = levels.map((l) => ({ x: l.t / 1000, y: nullable(pick(l)) }));
    if (points.every((p) => p.y === null)) return;
    points.push({ x: end, y: null });
    const lastLevel = [...levels].reverse().find((l) => pick(l) !== null);
    const lastValue = lastLevel ? pick(lastLevel) : null;
    levelSeries.push({
      name,
      last: nullable(lastValue),
      series: {
        label: name,
        colour,
        points,
        shape: 'step',
        risers: false,
        width: 1.6,
        ...(dash ? { dash } : {}),
        ...(lastValue !== null ? { endLabel: label(lastValue) } : {}),
      },
    });
  };
  addLevel(
    'liquidation price',
    (l) => l.liquidation,
    LINE_COLOURS.liquidation,
    undefined,
    (v) => `liq ${rounded(v)}`,
  );
  const { minMarginBuffer, panicMarginBuffer } = account.budget;
  if (minMarginBuffer !== undefined)
    addLevel(
      `min buffer ${minMarginBuffer}`,
      (l) => l.minBuffer,
      LINE_COLOURS.minBuffer,
      '6 4',
      (v) => `min ${minMarginBuffer}: ${rounded(v)}`,
    );
  if (panicMarginBuffer !== undefined)
    addLevel(
      `panic buffer ${panicMarginBuffer}`,
      (l) => l.panicBuffer,
      LINE_COLOURS.panicBuffer,
      '3 3',
      (v) => `panic ${panicMarginBuffer}: ${rounded(v)}`,
    );

  // The axis follows the marks and orders; levels widen it only within reach, the rest is noted as off scale.
  const base = [...markPoints.map((p) => p.y), ...markers.map((m) => m.y)].filter((y): y is number => y !== null);
  const lo = Math.min(...base);
  const hi = Math.max(...base);
  const span = Math.max(hi - lo, Math.abs(hi) * 0.05);
  const reachable = levelSeries
    .flatMap((l) => l.series.points.map((p) => p.y))
    .filter((y): y is number => y !== null && y >= lo - LEVEL_REACH * span && y <= hi + LEVEL_REACH * span);
  const domain = niceDomain(base.length > 0 ? [...base, ...reachable] : reachable, { pad: 0.07 });
  const offScale = levelSeries
    .filter((l) => l.last !== null && (l.last < domain[0] || l.last > domain[1]))
    .map((l) => `${l.series.endLabel} ${l.last! < domain[0] ? '↓' : '↑'}`);

  const last = marks[marks.length - 1];
  const spec: ChartSpec = {
    id: `${ctx.idPrefix}-price-${index}`,
    title: `${symbol} mark price, price levels and orders`,
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    x: { domain: xDomain(model), label: TIME_LABEL },
    y: { domain, label: `${symbol} price` },
    bands: bands(account),
    series: [
      ...levelSeries.map((l) => l.series),
      {
        label: `${symbol} mark`,
        colour: LINE_COLOURS.mark,
        points: markPoints,
        shape: 'line',
        width: 1.6,
        ...(last?.value ? { endLabel: `mark ${rounded(last.value)}` } : {}),
      },
    ],
    markers,
    ...(offScale.length > 0 ? { note: `off scale: ${offScale.join(', ')}` } : {}),
  };
  return renderChart(spec);
}

function orderMarker(o: OrderRow, marks: readonly TimePoint[]): ChartMarker[] {
  const at = o.type === 'limit' && o.price !== '0' ? o.price : (o.markAtOrder ?? markAt(marks, o.t));
  if (at === null) return [];
  const style = PURPOSE_MARKERS[o.purpose];
  const filled = dec(o.filled).gt(0);
  const price = o.type === 'market' ? 'market' : `limit ${o.price}`;
  const outcome = o.status === null ? 'no update' : `${o.status}, filled ${o.filled}`;
  return [
    {
      x: o.t / 1000,
      y: plotValue(at),
      shape: style.shape,
      colour: style.colour,
      hollow: !filled,
      title: `${seconds(o.t)} s ${o.orderId}: ${o.purpose} ${o.side} ${o.amount} ${o.symbol} ${price} — ${outcome}${o.reason ? ` (${o.reason})` : ''}${o.cancel ? `; cancel requested: ${o.cancel.reason}` : ''}`,
    },
  ];
}

function liquidationMarker(t: number, price: DecimalString | null): ChartMarker[] {
  if (price === null) return [];
  return [
    {
      x: t / 1000,
      y: plotValue(price),
      shape: 'cross',
      colour: LINE_COLOURS.liquidation,
      hollow: false,
      title: `${seconds(t)} s liquidated at ${price}`,
    },
  ];
}

function markAt(marks: readonly TimePoint[], t: number): DecimalString | null {
  let found: DecimalString | null = null;
  for (const m of marks) {
    if (m.t > t) break;
    found = m.value;
  }
  return found;
}

/** Margin buffer from the risk records against the budget's min and panic buffers. */
export function bufferChart(ctx: ChartContext): string {
  const { model, account } = ctx;
  const [x0, x1] = xDomain(model);
  const points = account.marginBuffer.map((p) => point(p));
  const series: ChartSeries[] = [];
  const { minMarginBuffer, panicMarginBuffer } = account.budget;
  const thresholds: number[] = [];
  if (minMarginBuffer !== undefined) {
    thresholds.push(plotValue(minMarginBuffer));
    series.push(
      constant(`minMarginBuffer ${minMarginBuffer}`, minMarginBuffer, LINE_COLOURS.minBuffer, '6 4', x0, x1, `min ${minMarginBuffer}`),
    );
  }
  if (panicMarginBuffer !== undefined) {
    thresholds.push(plotValue(panicMarginBuffer));
    series.push(
      constant(
        `panicMarginBuffer ${panicMarginBuffer}`,
        panicMarginBuffer,
        LINE_COLOURS.panicBuffer,
        '3 3',
        x0,
        x1,
        `panic ${panicMarginBuffer}`,
      ),
    );
  }
  const lastValue = [...account.marginBuffer].reverse().find((p) => p.value !== null)?.value;
  series.push({
    label: 'margin buffer',
    colour: LINE_COLOURS.marginBuffer,
    points,
    shape: 'line',
    dots: true,
    width: 1.8,
    ...(lastValue ? { endLabel: `buffer ${rounded(lastValue, 4)}` } : {}),
  });
  const values = [...points.map((p) => p.y), ...thresholds].filter((y): y is number => y !== null);
  const flat = points.every((p) => p.y === null);
  return renderChart({
    id: `${ctx.idPrefix}-buffer`,
    title: 'Margin buffer (margin fraction − maintenance)',
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    x: { domain: [x0, x1], label: TIME_LABEL },
    y: { domain: niceDomain(values, { includeZero: true, pad: 0.06 }), label: 'margin buffer' },
    bands: bands(account),
    series,
    ...(flat ? { note: 'no position during the run: the buffer is undefined' } : {}),
  });
}

/** Signed position per symbol from the risk records. */
export function positionChart(ctx: ChartContext): string {
  const { model, account } = ctx;
  const end = model.end / 1000;
  const symbols = Object.keys(account.position);
  const series: ChartSeries[] = symbols.map((symbol, i) => {
    const points = account.position[symbol]!.map((p) => point(p));
    const last = points[points.length - 1];
    if (last !== undefined && last.x < end) points.push({ x: end, y: last.y });
    const lastValue = account.position[symbol]![account.position[symbol]!.length - 1]?.value;
    return {
      label: `${symbol} position`,
      colour: LINE_COLOURS.positions[i % LINE_COLOURS.positions.length]!,
      points,
      shape: 'step',
      width: 1.8,
      ...(lastValue ? { endLabel: `${symbol} ${rounded(lastValue, 4)}` } : {}),
    };
  });
  const values = series.flatMap((s) => s.points.map((p) => p.y)).filter((y): y is number => y !== null);
  return renderChart({
    id: `${ctx.idPrefix}-position`,
    title: 'Position (signed size)',
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    x: { domain: xDomain(model), label: TIME_LABEL },
    y: { domain: niceDomain(values, { includeZero: true, pad: 0.08 }), label: 'size' },
    bands: bands(account),
    series,
    ...(symbols.length === 0 ? { note: 'no position during the run' } : {}),
  });
}

function constant(
  label: string,
  value: DecimalString,
  colour: string,
  dash: string,
  x0: number,
  x1: number,
  endLabel: string,
): ChartSeries {
  const y = plotValue(value);
  return {
    label,
    colour,
    points: [
      { x: x0, y },
      { x: x1, y },
    ],
    shape: 'line',
    width: 1.3,
    dash,
    endLabel,
  };
}

function point(p: TimePoint): ChartPoint {
  return { x: p.t / 1000, y: nullable(p.value) };
}

function nullable(value: DecimalString | null | undefined): number | null {
  return value === null || value === undefined ? null : plotValue(value);
}
