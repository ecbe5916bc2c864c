import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import ts from 'typescript';

/** One row of the Layout table in CONVENTIONS.md: a layer and what its files may import. */
export interface LayerRule {
  /** `src/runtime/`, `machines/` or a single file such as `src/index.ts`. */
  layer: string;
  folders: string[];
  /** Every folder but `src/cli/` (`*`). */
  anyFolder: boolean;
  /** npm packages allowed; empty: any package. */
  packages: string[];
  /** `node:` built-ins allowed (always, when `packages` is empty). */
  builtins: boolean;
}

export interface SourceFile {
  /** Repository-relative, with forward slashes. */
  path: string;
  text: string;
}

/** Reads the Layout table: rows whose first cell starts with a backticked path under `src/` or `machines/`. */
export function parseLayerTable(conventions: string): LayerRule[] {
  const rules: LayerRule[] = [];
  for (const line of conventions.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 5) continue;
    const layer = /^`((?:src\/|machines\/)[^`]*)`/.exec(cells[1] ?? '')?.[1];
    if (layer === undefined) continue;
    const names = [...(cells[3] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    const folders = names.filter((n) => n.endsWith('/'));
    const packages = names.filter((n) => !n.endsWith('/') && n !== '*' && n !== 'node:' && !n.endsWith('.ts'));
    rules.push({ layer, folders, anyFolder: names.includes('*'), packages, builtins: packages.length === 0 || names.includes('node:') });
  }
  return rules;
}

/** The layer a repository path belongs to: `machines/`, `src/<folder>/`, or the file itself at the top of src/. */
export function layerOf(path: string): string | undefined {
  const parts = path.split('/');
  if (parts[0] === 'machines') return 'machines/';
  if (parts[0] !== 'src') return undefined;
  return parts.length === 2 ? path : `src/${parts[1]}/`;
}

function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

/** Every import, re-export and dynamic import of a file, as written. */
export function importsOf(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

/** Each import that breaks the table, as one readable line; empty when the tree keeps its layers. */
export function layerViolations(files: readonly SourceFile[], rules: readonly LayerRule[]): string[] {
  const byLayer = new Map(rules.map((r) => [r.layer, r]));
  const problems: string[] = [];
  for (const file of files) {
    const layer = layerOf(file.path);
    if (layer === undefined) continue;
    const rule = byLayer.get(layer);
    if (!rule) {
      problems.push(`${file.path}: its folder ${layer} has no row in the CONVENTIONS.md Layout table`);
      continue;
    }
    const allowed = rule.anyFolder ? '* (every folder but src/cli/)' : rule.folders.join(', ') || 'nothing outside its folder';
    for (const specifier of importsOf(file.text)) {
      if (specifier.startsWith('.')) {
        const target = posix.normalize(posix.join(posix.dirname(file.path), specifier));
        const targetLayer = layerOf(target);
        if (targetLayer === layer) continue;
        const ok = targetLayer !== undefined && (rule.folders.includes(targetLayer) || (rule.anyFolder && targetLayer !== 'src/cli/'));
        if (!ok)
          problems.push(`${file.path} imports ${target} (${targetLayer ?? 'outside src/ and machines/'}): ${layer} may import ${allowed}`);
      } else if (specifier.startsWith('node:')) {
        if (!rule.builtins) problems.push(`${file.path} imports ${specifier}: ${layer} may use no Node built-in`);
      } else if (rule.packages.length > 0 && !rule.packages.includes(packageOf(specifier))) {
        problems.push(`${file.path} imports the package ${packageOf(specifier)}: ${layer} may use only ${rule.packages.join(', ')}`);
      }
    }
  }
  return problems;
}

/** Every .ts and .js file under `src/` and `machines/` of the repository at `root`. */
export function sourceFiles(root: string): SourceFile[] {
  const files: SourceFile[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.(ts|js)$/.test(entry.name))
        files.push({ path: relative(root, full).split(sep).join('/'), text: readFileSync(full, 'utf8') });
    }
  };
  walk(join(root, 'src'));
  walk(join(root, 'machines'));
  return files;
}
