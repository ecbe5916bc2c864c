import { formatTick, niceTicks } from './axis-ticks.ts';
import { escapeHtml } from './html-escape.ts';

/** A point in data coordinates; y null breaks the series (an undefined value). */
export interface ChartPoint {
  x: number;
  y: number | null;
}

export interface ChartSeries {
  label: string;
  colour: string;
  points: readonly ChartPoint[];
  /** `step`: each value holds until the next point (positions, levels); `line`: straight segments. */
  shape: 'line' | 'step';
  width?: number;
  dash?: string;
  /** Text at the end of the series, e.g. "liq 1260.61". */
  endLabel?: string;
  /** A dot at every point (sparse samples). */
  dots?: boolean;
  /** Step series only: false draws the held values without the vertical joins (levels that jump). */
  risers?: boolean;
}

/** A coloured background stretch over time. */
export interface ChartBand {
  from: number;
  to: number;
  colour: string;
  /** Hover text. */
  title: string;
  /** Text drawn inside the band when it is wide enough. */
  label?: string;
}

export type MarkerShape = 'circle' | 'square' | 'diamond' | 'triangle' | 'cross';

export interface ChartMarker {
  x: number;
  y: number;
  shape: MarkerShape;
  colour: string;
  /** Drawn as an outline: the order did not fill. */
  hollow: boolean;
  /** Hover text. */
  title: string;
}

export interface ChartSpec {
  /** Unique within the page: clip paths are referenced by id. */
  id: string;
  title: string;
  width: number;
  height: number;
  x: { domain: [number, number]; label: string };
  /** Without y: a strip (bands only, no y axis). */
  y?: { domain: [number, number]; label: string };
  bands?: readonly ChartBand[];
  /** Opacity of the band fill: faint behind data, strong in a strip. */
  bandOpacity?: number;
  series?: readonly ChartSeries[];
  markers?: readonly ChartMarker[];
  /** Text under the title, right-aligned (e.g. off-scale notes). */
  note?: string;
}

const MARGIN = { top: 24, right: 124, bottom: 34, left: 64 };
const STRIP_MARGIN = { top: 20, right: 124, bottom: 30, left: 64 };
/** Narrower bands are widened to this, so an instant state (entered and left in one step) stays visible. */
const MIN_BAND_PX = 3;
const LABEL_GAP_PX = 12;
const CHAR_PX = 6.2;

/** A line, step or band chart as inline SVG: axes with round ticks, a clipped plot area, end labels. */
export function renderChart(spec: ChartSpec): string {
  const m = spec.y ? MARGIN : STRIP_MARGIN;
  const plot = { left: m.left, top: m.top, right: spec.width - m.right, bottom: spec.height - m.bottom };
  const [x0, x1] = spec.x.domain;
  const sx = (x: number): number => plot.left + ((x - x0) / (x1 - x0 || 1)) * (plot.right - plot.left);
  const [y0, y1] = spec.y?.domain ?? [0, 1];
  const sy = (y: number): number => plot.bottom - ((y - y0) / (y1 - y0 || 1)) * (plot.bottom - plot.top);
  const clip = `clip-${spec.id}`;
  const parts: string[] = [];

  parts.push(
    `<svg class="chart" id="${escapeHtml(spec.id)}" width="${spec.width}" height="${spec.height}" viewBox="0 0 ${spec.width} ${spec.height}" role="img" aria-label="${escapeHtml(spec.title)}">`,
    `<title>${escapeHtml(spec.title)}</title>`,
    `<defs><clipPath id="${escapeHtml(clip)}"><rect x="${fx(plot.left)}" y="${fx(plot.top)}" width="${fx(plot.right - plot.left)}" height="${fx(plot.bottom - plot.top)}"/></clipPath></defs>`,
    `<rect class="plot-bg" x="${fx(plot.left)}" y="${fx(plot.top)}" width="${fx(plot.right - plot.left)}" height="${fx(plot.bottom - plot.top)}"/>`,
    `<text class="chart-title" x="${fx(plot.left)}" y="14">${escapeHtml(spec.title)}</text>`,
  );
  if (spec.note) parts.push(`<text class="chart-note" x="${fx(plot.right)}" y="14" text-anchor="end">${escapeHtml(spec.note)}</text>`);

  parts.push(`<g clip-path="url(#${escapeHtml(clip)})">`);
  for (const band of spec.bands ?? []) parts.push(renderBand(band, sx, plot, spec.bandOpacity ?? 0.14));
  parts.push('</g>');

  // Grid and axes.
  const xTicks = niceTicks(x0, x1, Math.max(4, Math.round((plot.right - plot.left) / 80)));
  parts.push('<g class="axis x-axis">');
  for (const v of xTicks.values) {
    const x = sx(v);
    if (spec.y) parts.push(`<line class="grid" x1="${fx(x)}" y1="${fx(plot.top)}" x2="${fx(x)}" y2="${fx(plot.bottom)}"/>`);
    parts.push(`<line x1="${fx(x)}" y1="${fx(plot.bottom)}" x2="${fx(x)}" y2="${fx(plot.bottom + 4)}"/>`);
    parts.push(`<text x="${fx(x)}" y="${fx(plot.bottom + 15)}" text-anchor="middle">${escapeHtml(formatTick(v, xTicks.decimals))}</text>`);
  }
  parts.push(`<line x1="${fx(plot.left)}" y1="${fx(plot.bottom)}" x2="${fx(plot.right)}" y2="${fx(plot.bottom)}"/>`);
  parts.push(
    `<text class="axis-label" x="${fx(plot.right)}" y="${fx(plot.bottom + 28)}" text-anchor="end">${escapeHtml(spec.x.label)}</text>`,
  );
  parts.push('</g>');
  if (spec.y) {
    const yTicks = niceTicks(y0, y1, Math.max(3, Math.round((plot.bottom - plot.top) / 32)));
    parts.push('<g class="axis y-axis">');
    for (const v of yTicks.values) {
      const y = sy(v);
      parts.push(`<line class="grid" x1="${fx(plot.left)}" y1="${fx(y)}" x2="${fx(plot.right)}" y2="${fx(y)}"/>`);
      parts.push(`<line x1="${fx(plot.left - 4)}" y1="${fx(y)}" x2="${fx(plot.left)}" y2="${fx(y)}"/>`);
      parts.push(
        `<text x="${fx(plot.left - 7)}" y="${fx(y + 3.5)}" text-anchor="end">${escapeHtml(formatTick(v, yTicks.decimals))}</text>`,
      );
    }
    parts.push(`<line x1="${fx(plot.left)}" y1="${fx(plot.top)}" x2="${fx(plot.left)}" y2="${fx(plot.bottom)}"/>`);
    parts.push(
      `<text class="axis-label" transform="translate(14 ${fx((plot.top + plot.bottom) / 2)}) rotate(-90)" text-anchor="middle">${escapeHtml(spec.y.label)}</text>`,
    );
    parts.push('</g>');
  }

  parts.push(`<g clip-path="url(#${escapeHtml(clip)})">`);
  for (const s of spec.series ?? []) parts.push(renderSeries(s, sx, sy));
  for (const marker of spec.markers ?? []) parts.push(renderMarker(marker, sx(marker.x), sy(marker.y)));
  parts.push('</g>');
  parts.push(renderEndLabels(spec.series ?? [], sx, sy, plot));
  parts.push(
    `<rect class="frame" x="${fx(plot.left)}" y="${fx(plot.top)}" width="${fx(plot.right - plot.left)}" height="${fx(plot.bottom - plot.top)}"/>`,
  );
  parts.push('</svg>');
  return parts.join('');
}

interface Plot {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

function renderBand(band: ChartBand, sx: (x: number) => number, plot: Plot, opacity: number): string {
  let left = sx(band.from);
  let width = sx(band.to) - left;
  if (width < MIN_BAND_PX) {
    left -= (MIN_BAND_PX - width) / 2;
    width = MIN_BAND_PX;
  }
  const rect = `<rect class="band" x="${fx(left)}" y="${fx(plot.top)}" width="${fx(width)}" height="${fx(plot.bottom - plot.top)}" fill="${escapeHtml(band.colour)}" fill-opacity="${opacity}"><title>${escapeHtml(band.title)}</title></rect>`;
  const fits = band.label !== undefined && band.label.length * CHAR_PX + 8 < width;
  const label = fits
    ? `<text class="band-label" x="${fx(left + width / 2)}" y="${fx((plot.top + plot.bottom) / 2 + 4)}" text-anchor="middle">${escapeHtml(band.label!)}</text>`
    : '';
  return rect + label;
}

function renderSeries(s: ChartSeries, sx: (x: number) => number, sy: (y: number) => number): string {
  const d: string[] = [];
  const dots: string[] = [];
  let open = false;
  s.points.forEach((p, i) => {
    if (p.y === null) {
      open = false;
      return;
    }
    const x = sx(p.x);
    const y = sy(p.y);
    if (!open || (s.shape === 'step' && s.risers === false)) d.push(`M${fx(x)} ${fx(y)}`);
    else d.push(`L${fx(x)} ${fx(y)}`);
    open = true;
    if (s.dots) dots.push(`<circle cx="${fx(x)}" cy="${fx(y)}" r="2.2" fill="${escapeHtml(s.colour)}"/>`);
    if (s.shape === 'step') {
      // Hold the value until the next point, whatever that point's value.
      const next = s.points[i + 1];
      if (next !== undefined) d.push(`L${fx(sx(next.x))} ${fx(y)}`);
    }
  });
  if (d.length === 0) return '';
  const dash = s.dash ? ` stroke-dasharray="${escapeHtml(s.dash)}"` : '';
  return `<path class="series" d="${d.join('')}" fill="none" stroke="${escapeHtml(s.colour)}" stroke-width="${s.width ?? 1.6}"${dash} stroke-linejoin="round"><title>${escapeHtml(s.label)}</title></path>${dots.join('')}`;
}

function renderMarker(marker: ChartMarker, x: number, y: number): string {
  const colour = escapeHtml(marker.colour);
  const paint = marker.hollow
    ? `fill="#ffffff" stroke="${colour}" stroke-width="1.8"`
    : `fill="${colour}" stroke="#ffffff" stroke-width="0.8"`;
  const r = 5;
  let shape: string;
  switch (marker.shape) {
    case 'circle':
      shape = `<circle cx="${fx(x)}" cy="${fx(y)}" r="${r - 0.5}" ${paint}/>`;
      break;
    case 'square':
      shape = `<rect x="${fx(x - r + 1)}" y="${fx(y - r + 1)}" width="${2 * r - 2}" height="${2 * r - 2}" ${paint}/>`;
      break;
    case 'diamond':
      shape = `<path d="M${fx(x)} ${fx(y - r - 1)}L${fx(x + r + 1)} ${fx(y)}L${fx(x)} ${fx(y + r + 1)}L${fx(x - r - 1)} ${fx(y)}Z" ${paint}/>`;
      break;
    case 'triangle':
      shape = `<path d="M${fx(x - r)} ${fx(y - r + 1)}L${fx(x + r)} ${fx(y - r + 1)}L${fx(x)} ${fx(y + r + 1)}Z" ${paint}/>`;
      break;
    case 'cross':
      shape = `<path d="M${fx(x - r - 1)} ${fx(y - r - 1)}L${fx(x + r + 1)} ${fx(y + r + 1)}M${fx(x - r - 1)} ${fx(y + r + 1)}L${fx(x + r + 1)} ${fx(y - r - 1)}" fill="none" stroke="${colour}" stroke-width="2.6"/>`;
      break;
  }
  return `<g class="marker">${shape}<title>${escapeHtml(marker.title)}</title></g>`;
}

/**
 * End labels: a series that reaches the right edge is labelled in the right margin (labels pushed apart
 * so they do not overlap); one that ends earlier is labelled where it ends.
 */
function renderEndLabels(series: readonly ChartSeries[], sx: (x: number) => number, sy: (y: number) => number, plot: Plot): string {
  const margin: EndLabel[] = [];
  const inside: EndLabel[] = [];
  for (const s of series) {
    if (s.endLabel === undefined) continue;
    const last = lastDefined(s);
    if (last === undefined) continue;
    const y = sy(last.y);
    if (y < plot.top - 1 || y > plot.bottom + 1) continue;
    // A step series holds its last value to the next point's x, even when that point is a gap.
    const index = s.points.indexOf(last.point);
    const endX = s.shape === 'step' && s.points[index + 1] !== undefined ? sx(s.points[index + 1]!.x) : sx(last.point.x);
    if (endX >= plot.right - 1) margin.push({ x: plot.right + 6, y: y + 3.5, text: s.endLabel, colour: s.colour });
    else inside.push({ x: endX + 4, y: y - 4, text: s.endLabel, colour: s.colour });
  }
  spread(margin, plot.bottom + 14);
  spread(inside, plot.bottom + 14);
  return [...inside, ...margin]
    .map((l) => `<text class="end-label" x="${fx(l.x)}" y="${fx(l.y)}" fill="${escapeHtml(l.colour)}">${escapeHtml(l.text)}</text>`)
    .join('');
}

interface EndLabel {
  x: number;
  y: number;
  text: string;
  colour: string;
}

/** Pushes labels whose text would overlap apart vertically, keeping them above `bottom`. */
function spread(labels: EndLabel[], bottom: number): void {
  labels.sort((a, b) => a.y - b.y);
  const overlaps = (a: EndLabel, b: EndLabel): boolean => a.x < b.x + b.text.length * CHAR_PX && b.x < a.x + a.text.length * CHAR_PX;
  for (let i = 1; i < labels.length; i++) {
    for (let j = 0; j < i; j++) {
      if (overlaps(labels[i]!, labels[j]!)) labels[i]!.y = Math.max(labels[i]!.y, labels[j]!.y + LABEL_GAP_PX);
    }
  }
  const overflow = Math.max(0, ...labels.map((l) => l.y - bottom));
  if (overflow > 0) for (const l of labels) l.y -= overflow;
}

function lastDefined(s: ChartSeries): { point: ChartPoint; y: number } | undefined {
  for (let i = s.points.length - 1; i >= 0; i--) {
    const p = s.points[i]!;
    if (p.y !== null) return { point: p, y: p.y };
  }
  return undefined;
}

/** Coordinates with two decimals: short markup, no visible rounding. */
function fx(n: number): string {
  return String(Math.round(n * 100) / 100);
}
