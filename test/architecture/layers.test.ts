import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { layerOf, layerViolations, parseLayerTable, sourceFiles } from './layer-rules.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RULES = parseLayerTable(readFileSync(`${ROOT}/CONVENTIONS.md`, 'utf8'));
const rule = (layer: string) => RULES.find((r) => r.layer === layer);

describe('layers (the Layout table of CONVENTIONS.md, made executable)', () => {
  it('reads a rule for every layer of the table', () => {
    expect(rule('src/domain/')).toMatchObject({ folders: [], packages: ['decimal.js'], builtins: false });
    expect(rule('machines/')).toMatchObject({ folders: ['src/domain/'], packages: ['xstate'] });
    expect(rule('src/app/')?.anyFolder).toBe(true);
    expect(rule('src/runtime/')?.folders).not.toContain('src/api/');
  });

  it('every file under src/ and machines/ imports only what its layer may', () => {
    const files = sourceFiles(ROOT);
    expect(files.length).toBeGreaterThan(100);
    expect(new Set(files.map((f) => layerOf(f.path))).size).toBeGreaterThan(15);
    expect(layerViolations(files, RULES)).toEqual([]);
  });

  it('fails on a reverse import, an import into the CLI and a package a pure layer may not use', () => {
    const files = [
      { path: 'src/runtime/fleet-runtime.ts', text: "import type { FleetView } from '../api/fleet-view.ts';" },
      { path: 'src/app/live-fleet.ts', text: "export { main } from '../cli/main.ts';" },
      { path: 'src/domain/ledger.ts', text: "import { z } from 'zod';\nimport { readFile } from 'node:fs/promises';" },
      { path: 'machines/account.ts', text: "const m = await import('../src/store/open-store.ts');" },
      { path: 'src/venue/venue-client.ts', text: "import { dec } from '../domain/decimal.ts';\nimport { WebSocket } from 'ws';" },
    ];
    expect(layerViolations(files, RULES)).toEqual([
      'src/runtime/fleet-runtime.ts imports src/api/fleet-view.ts (src/api/): src/runtime/ may import machines/, src/domain/, src/clock/, src/config/, src/timeline/, src/venue/, src/store/, src/persistence/',
      'src/app/live-fleet.ts imports src/cli/main.ts (src/cli/): src/app/ may import * (every folder but src/cli/)',
      'src/domain/ledger.ts imports the package zod: src/domain/ may use only decimal.js',
      'src/domain/ledger.ts imports node:fs/promises: src/domain/ may use no Node built-in',
      'machines/account.ts imports src/store/open-store.ts (src/store/): machines/ may import src/domain/',
    ]);
  });

  it('names a folder the table does not know', () => {
    expect(layerViolations([{ path: 'src/gadgets/thing.ts', text: '' }], RULES)).toEqual([
      'src/gadgets/thing.ts: its folder src/gadgets/ has no row in the CONVENTIONS.md Layout table',
    ]);
  });
});
