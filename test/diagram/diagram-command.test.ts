import { describe, expect, it } from 'vitest';
import { diagramCommand } from '../../src/cli/diagram-command.ts';
import { DIAGRAM_MACHINE_NAMES } from '../../src/diagram/machines.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) } };
}

describe('diagramCommand', () => {
  it.each([
    ['mermaid', /^stateDiagram-v2\n/],
    ['dot', /^digraph "account" \{\n/],
    ['svg', /<svg[\s>][\s\S]*<\/svg>$/],
  ])('prints the account statechart as %s and exits 0', async (format, shape) => {
    const c = capture();
    expect(await diagramCommand('account', format, c.io)).toBe(0);
    expect(c.err).toEqual([]);
    expect(c.out).toHaveLength(1);
    expect(c.out[0]).toMatch(shape);
  });

  it('exits 2 naming the available statecharts for an unknown one', async () => {
    const c = capture();
    expect(await diagramCommand('portfolio', 'mermaid', c.io)).toBe(2);
    expect(c.out).toEqual([]);
    expect(c.err).toEqual([`which: unknown statechart "portfolio"; available: ${DIAGRAM_MACHINE_NAMES.join(', ')}`]);
    expect(c.err[0]).toContain('account');
  });

  it('exits 2 naming the formats for an unknown one', async () => {
    const c = capture();
    expect(await diagramCommand('account', 'png', c.io)).toBe(2);
    expect(c.out).toEqual([]);
    expect(c.err).toEqual(['--format: unknown diagram format "png"; expected one of mermaid, dot, svg']);
  });

  it('does not take an inherited property for a statechart name', async () => {
    const c = capture();
    expect(await diagramCommand('constructor', 'dot', c.io)).toBe(2);
  });
});

describe('diagram command, every statechart', () => {
  it('draws the supervisor and the order lifecycle in every format', async () => {
    for (const which of ['supervisor', 'order']) {
      for (const format of ['mermaid', 'dot', 'svg']) {
        const c = capture();
        expect(await diagramCommand(which, format, c.io), `${which} ${format}`).toBe(0);
        expect(c.out.join('\n').length).toBeGreaterThan(50);
      }
    }
  });
});
