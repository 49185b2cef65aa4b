import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A clone of this repository alone must be enough to run its tests, benchmarks and sample. */
const root = fileURLToPath(new URL('../../', import.meta.url));

// Built from pieces so that this file does not match itself.
const SHARED = 'shared';
const FORBIDDEN = [`${SHARED}/vectors`, `../${SHARED}`, `/work/${SHARED}`];
const SCANNED = ['test', 'src', 'bench', 'sample', '.ci'];

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : filesUnder(path);
    return entry.isFile() ? [path] : [];
  });
}

describe('the repository stands alone', () => {
  it('no file under test/, src/, bench/, sample/ or .ci/ reaches outside the repo for shared files', () => {
    const files = SCANNED.flatMap((dir) => filesUnder(join(root, dir)));
    expect(files.length).toBeGreaterThan(0);
    const offenders = files.flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      return FORBIDDEN.filter((needle) => text.includes(needle)).map((needle) => `${relative(root, file)}: ${needle}`);
    });
    expect(offenders).toEqual([]);
  });

  it('has the Fernet spec vectors as fixtures, with a note on their source', () => {
    const dir = join(root, 'test', 'fixtures', 'fernet');
    for (const name of ['generate.json', 'verify.json', 'invalid.json']) {
      const vectors = JSON.parse(readFileSync(join(dir, name), 'utf8'));
      expect(Array.isArray(vectors) && vectors.length > 0).toBe(true);
    }
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toMatch(/github\.com\/fernet\/spec/);
  });
});
