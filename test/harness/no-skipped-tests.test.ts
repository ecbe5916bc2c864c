import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Every test must run: a skipped or todo test would let the suite pass without checking anything.
const FORBIDDEN = /\b(?:it|test|describe)\s*\.\s*(?:skip|todo|only|skipIf|runIf)\b|\bxit\s*\(/;

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return testFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

describe('the test suite', () => {
  it('contains no skipped, todo or focused tests', () => {
    const offenders = testFiles('test').filter(
      (file) => !file.endsWith('no-skipped-tests.test.ts') && FORBIDDEN.test(readFileSync(file, 'utf8')),
    );
    expect(offenders).toEqual([]);
  });
});
