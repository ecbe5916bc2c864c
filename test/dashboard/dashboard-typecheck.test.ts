import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { DASHBOARD_DIR } from '../../src/dashboard/static-files.ts';

/**
 * The dashboard's browser modules are JavaScript checked from their JSDoc by their own tsconfig (DOM,
 * no Node types). These tests keep them that way: the check passes, every module is under it, and the
 * declaration TypeScript reads for the shared axis ticks says what the JavaScript does.
 */

const ROOT = new URL('../../', import.meta.url);
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const MODULES = readdirSync(DASHBOARD_DIR)
  .filter((name) => name.endsWith('.js'))
  .sort();

describe('the dashboard modules', () => {
  it('type-check with zero errors under src/dashboard/static/tsconfig.json', () => {
    const run = spawnSync(process.execPath, [TSC, '-p', 'src/dashboard/static/tsconfig.json'], { cwd: ROOT, encoding: 'utf8' });
    expect(run.error).toBeUndefined();
    expect(`${run.stdout}${run.stderr}`).toBe('');
    expect(run.status).toBe(0);
  }, 120_000);

  it.each(MODULES)('%s opts into the check with // @ts-check', (name) => {
    expect(readFileSync(join(DASHBOARD_DIR, name), 'utf8').startsWith('// @ts-check\n')).toBe(true);
  });

  it('are all in the project the check reads, with browser types only', () => {
    const host = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} };
    const config = ts.getParsedCommandLineOfConfigFile(join(DASHBOARD_DIR, 'tsconfig.json'), {}, host);
    expect(config?.errors).toEqual([]);
    const files = (config?.fileNames ?? []).map((file) => file.slice(file.lastIndexOf('/') + 1));
    expect(files).toEqual(expect.arrayContaining(MODULES));
    expect(config?.options).toMatchObject({ checkJs: true, allowJs: true, noEmit: true, strict: true, types: [] });
  });

  it('declare in axis-ticks.d.ts exactly what axis-ticks.js exports', () => {
    const dir = mkdtempSync(join(tmpdir(), 'riskwarden-axis-ticks-'));
    try {
      const base: ts.CompilerOptions = {
        strict: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ES2022,
        moduleResolution: ts.ModuleResolutionKind.Bundler,
        types: [],
        lib: ['lib.es2022.d.ts'],
        skipLibCheck: true,
      };
      // What TypeScript itself makes of the JavaScript and its JSDoc...
      const js = ts.createProgram([join(DASHBOARD_DIR, 'axis-ticks.js')], {
        ...base,
        allowJs: true,
        checkJs: true,
        declaration: true,
        emitDeclarationOnly: true,
        outDir: dir,
      });
      const emitted = [...ts.getPreEmitDiagnostics(js), ...js.emit().diagnostics];
      expect(emitted.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
      // ...must be identical (not merely assignable: optional parameters count) to the hand-written declaration.
      writeFileSync(
        join(dir, 'same.ts'),
        [
          "import type * as emitted from './axis-ticks.js';",
          `import type * as declared from ${JSON.stringify(join(DASHBOARD_DIR, 'axis-ticks.js'))};`,
          'type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;',
          'export const functions: Same<typeof emitted, typeof declared> = true;',
          'export const ticks: Same<emitted.Ticks, declared.Ticks> = true;',
          '',
        ].join('\n'),
      );
      const check = ts.createProgram([join(dir, 'same.ts')], { ...base, noEmit: true });
      const problems = ts.getPreEmitDiagnostics(check).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      expect(problems, 'axis-ticks.d.ts and the JSDoc of axis-ticks.js disagree: change both together').toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
