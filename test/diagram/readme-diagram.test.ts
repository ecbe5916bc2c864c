import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { accountMachine } from '../../machines/account.ts';
import { renderDiagram } from '../../src/diagram/diagram-format.ts';

describe('README', () => {
  it('shows the account statechart exactly as the tool draws it', async () => {
    const readme = readFileSync('README.md', 'utf8');
    const block = /```mermaid\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block, 'README has a mermaid block').toBeDefined();
    expect(block!.trimEnd()).toBe((await renderDiagram(accountMachine, 'mermaid', {})).trimEnd());
  });
});
