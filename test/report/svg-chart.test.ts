import { describe, expect, it } from 'vitest';
import { renderChart, type ChartSpec } from '../../src/report/svg-chart.ts';

const base: ChartSpec = {
  id: 'c1',
  title: 'Price <b>&</b>',
  width: 900,
  height: 220,
  x: { domain: [0, 100], label: 'time (s)' },
  y: { domain: [0, 10], label: 'price' },
};

describe('renderChart', () => {
  it('draws a sized SVG with a title, axes with tick labels and a clipped plot area', () => {
    const svg = renderChart(base);
    expect(svg).toMatch(/^<svg class="chart" id="c1" width="900" height="220" viewBox="0 0 900 220"/);
    expect(svg).toContain('<title>Price &lt;b&gt;&amp;&lt;/b&gt;</title>');
    expect(svg).toContain('<clipPath id="clip-c1">');
    expect(svg).toContain('>time (s)</text>');
    // x ticks every 20 s across 716 px of plot; y ticks 0…10
    for (const tick of ['0', '20', '40', '60', '80', '100']) expect(svg).toContain(`text-anchor="middle">${tick}</text>`);
    expect(svg).toContain('text-anchor="end">10</text>');
    expect(svg.endsWith('</svg>')).toBe(true);
  });

  it('breaks a line at a null and holds a step value until the next point', () => {
    const svg = renderChart({
      ...base,
      series: [
        {
          label: 'line',
          colour: '#000000',
          shape: 'line',
          points: [
            { x: 0, y: 1 },
            { x: 10, y: null },
            { x: 20, y: 2 },
            { x: 30, y: 3 },
          ],
        },
        {
          label: 'step',
          colour: '#111111',
          shape: 'step',
          points: [
            { x: 0, y: 0 },
            { x: 50, y: 10 },
          ],
        },
      ],
    });
    const paths = [...svg.matchAll(/<path class="series" d="([^"]+)"/g)].map((m) => m[1]);
    // plot: x 64…776, y 24…186. The line restarts (a second M) after the gap.
    expect(paths[0]).toBe('M64 169.8M206.4 153.6L277.6 137.4');
    // The step holds y=0 (186) until x=50 (420), then rises to y=10 (24).
    expect(paths[1]).toBe('M64 186L420 186L420 24');
  });

  it('widens an instant band so it stays visible, and escapes hover text', () => {
    const svg = renderChart({ ...base, bands: [{ from: 50, to: 50, colour: '#d62828', title: '<panic>' }] });
    expect(svg).toMatch(/<rect class="band" x="418.5" y="24" width="3"/);
    expect(svg).toContain('<title>&lt;panic&gt;</title>');
  });

  it('labels series ends in the margin without overlap', () => {
    const svg = renderChart({
      ...base,
      series: [
        {
          label: 'a',
          colour: '#000000',
          shape: 'line',
          points: [
            { x: 0, y: 5 },
            { x: 100, y: 5 },
          ],
          endLabel: 'A',
        },
        {
          label: 'b',
          colour: '#000000',
          shape: 'line',
          points: [
            { x: 0, y: 5.1 },
            { x: 100, y: 5.1 },
          ],
          endLabel: 'B',
        },
      ],
    });
    const ys = [...svg.matchAll(/<text class="end-label" x="782" y="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(ys).toHaveLength(2);
    expect(Math.abs(ys[0]! - ys[1]!)).toBeGreaterThanOrEqual(12);
  });
});
