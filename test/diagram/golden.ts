import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

/**
 * Golden files: generated diagrams committed under test/diagram/golden/ and compared byte for byte, so a
 * diagram cannot drift from its machine unnoticed. After changing a machine or a renderer on purpose,
 * regenerate them and review the diff:
 *
 *     UPDATE_GOLDEN=1 npx vitest run test/diagram
 */
export const UPDATING_GOLDEN = process.env.UPDATE_GOLDEN === '1';

const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), 'golden');

export function expectGolden(name: string, actual: string): void {
  const path = join(GOLDEN_DIR, name);
  if (UPDATING_GOLDEN) {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  let expected: string;
  try {
    expected = readFileSync(path, 'utf8');
  } catch {
    expect.fail(`golden file ${path} is missing: create it with UPDATE_GOLDEN=1 npx vitest run test/diagram`);
  }
  expect(
    actual,
    `${name} differs from its golden file; if the change is intended, run UPDATE_GOLDEN=1 npx vitest run test/diagram and review the diff`,
  ).toBe(expected);
}
