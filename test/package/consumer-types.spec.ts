import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The packed package, type-checked from consumer projects with each module resolution a Nest app
 * may use: the classic CommonJS `moduleResolution: node` (node10, which ignores `exports` and
 * needs `typesVersions` for the subpaths), and node16 / nodenext as CommonJS and as ESM.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

/** `./redis` → `redis`, for every subpath of `exports` that has types. */
const subpaths: string[] = Object.entries(manifest.exports as Record<string, unknown>)
  .filter(([key, value]) => key !== '.' && typeof value === 'object' && value !== null && 'types' in value)
  .map(([key]) => key.slice(2));

const SECRET = "'a-secret-of-at-least-32-characters!'";

/** Type-only use of each entry point. The `@ts-expect-error` lines fail (unused) if a type degrades to `any`. */
const typesConsumer = (attributes: string) => `
import type { SessionModuleOptions, SessionStore } from '@sessionkit/nest'${attributes};
import type { RedisStore } from '@sessionkit/nest/redis'${attributes};
import type { storeConformanceCases } from '@sessionkit/nest/testing'${attributes};

export const options: SessionModuleOptions = { secret: ${SECRET}, lifetime: 3600 };
// @ts-expect-error \`secret\` is required
export const withoutSecret: SessionModuleOptions = { lifetime: 3600 };

export const asStore = (store: RedisStore): SessionStore => store;
// @ts-expect-error not a RedisStore
export const notARedisStore: RedisStore = {};

export type Cases = ReturnType<typeof storeConformanceCases>;
export const caseNames = (cases: Cases): string[] => cases.map((c) => c.name);
// @ts-expect-error a case's name is a string
export const badCases: Cases = [{ name: 1, run: async () => {} }];
`;

/** Value imports, as an app module and a store's test would write them. */
const valuesConsumer = `
import { MemoryStore, SessionModule, type SessionModuleOptions } from '@sessionkit/nest';
import { RedisStore, type RedisStoreOptions } from '@sessionkit/nest/redis';
import { storeConformanceCases } from '@sessionkit/nest/testing';

const options: SessionModuleOptions = { secret: ${SECRET}, store: new MemoryStore() };
export const sessionModule = SessionModule.forRoot(options);
export const redisStore = (client: RedisStoreOptions['client']): RedisStore => new RedisStore({ client });
export const caseNames: string[] = storeConformanceCases(() => new MemoryStore()).map((c) => c.name);
// @ts-expect-error \`secret\` is required
SessionModule.forRoot({ lifetime: 3600 });
`;

/** Every subpath in `exports`, whatever it is (a new one is covered without editing this test). */
const subpathsConsumer = (attributes: string) =>
  subpaths.map((sub, i) => `import type * as entry${i} from '@sessionkit/nest/${sub}'${attributes};\nexport type Entry${i} = typeof entry${i};\n`).join('');

const IMPORT_MODE = " with { 'resolution-mode': 'import' }";

interface Mode {
  name: string;
  type: 'commonjs' | 'module';
  compilerOptions: Record<string, unknown>;
  files: Record<string, string>;
}

const modes: Mode[] = [
  {
    // Nest's classic CommonJS setup. TypeScript 6 deprecates node10 resolution and asks for ignoreDeprecations.
    name: 'moduleResolution node (node10) + module commonjs',
    type: 'commonjs',
    compilerOptions: { module: 'commonjs', moduleResolution: 'node', ignoreDeprecations: '6.0' },
    files: { 'types.ts': typesConsumer(''), 'values.ts': valuesConsumer, 'subpaths.ts': subpathsConsumer('') },
  },
  {
    // A CommonJS file may not `require` this ESM-only package under node16 (TS1479 for value
    // imports), and a type-only import of it needs the resolution-mode attribute (TS1541).
    name: 'node16, CommonJS',
    type: 'commonjs',
    compilerOptions: { module: 'node16', moduleResolution: 'node16' },
    files: { 'types.ts': typesConsumer(IMPORT_MODE), 'subpaths.ts': subpathsConsumer(IMPORT_MODE) },
  },
  {
    name: 'node16, ESM',
    type: 'module',
    compilerOptions: { module: 'node16', moduleResolution: 'node16' },
    files: { 'types.ts': typesConsumer(''), 'values.ts': valuesConsumer, 'subpaths.ts': subpathsConsumer('') },
  },
  {
    // nodenext knows that Node (20.19+) can require() an ES module, so value imports are fine.
    name: 'nodenext, CommonJS',
    type: 'commonjs',
    compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext' },
    files: { 'types.ts': typesConsumer(''), 'values.ts': valuesConsumer, 'subpaths.ts': subpathsConsumer('') },
  },
  {
    name: 'nodenext, ESM',
    type: 'module',
    compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext' },
    files: { 'types.ts': typesConsumer(''), 'values.ts': valuesConsumer, 'subpaths.ts': subpathsConsumer('') },
  },
];

describe('typesVersions (types of the subpaths for resolvers that ignore exports)', () => {
  it('maps every subpath of exports to the same .d.ts as its exports entry', () => {
    expect(subpaths).toEqual(expect.arrayContaining(['redis', 'testing']));
    const map = manifest.typesVersions?.['*'] ?? {};
    for (const sub of subpaths) {
      expect({ sub, mapped: map[sub] }).toEqual({ sub, mapped: [manifest.exports[`./${sub}`].types.replace(/^\.\//, '')] });
    }
  });
});

describe('types of the packed package, from consumer projects', () => {
  let work: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'sessionkit-consumer-types-'));
    // `npm pack` runs `prepack`, i.e. `npm run build`: the tarball holds a fresh dist/.
    const pack = spawnSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8' });
    if (pack.status !== 0) throw new Error(`npm pack failed:\n${pack.stdout}\n${pack.stderr}`);
    const [packed] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('[')));

    // The consumers (work/<mode>/) share work/node_modules: the tarball's content, plus links to
    // what an app that uses the package has installed (its dependencies and peers, @types/node).
    const target = join(work, 'node_modules', '@sessionkit', 'nest');
    mkdirSync(target, { recursive: true });
    const tar = spawnSync('tar', ['-xzf', join(work, packed.filename), '-C', target, '--strip-components=1'], { encoding: 'utf8' });
    if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr}`);
    const linked = [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {}), '@types/node'];
    for (const dep of linked) {
      const from = join(root, 'node_modules', dep);
      if (!existsSync(from)) continue;
      const to = join(work, 'node_modules', dep);
      mkdirSync(dirname(to), { recursive: true });
      symlinkSync(from, to, 'dir');
    }
  }, 180_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  function typeCheck(dir: string, type: Mode['type'], compilerOptions: Record<string, unknown>, files: Record<string, string>) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type }));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const tsconfig = {
      compilerOptions: { target: 'es2022', strict: true, noEmit: true, skipLibCheck: true, types: ['node'], ...compilerOptions },
      files: Object.keys(files),
    };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
    const run = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--pretty', 'false'], { cwd: dir, encoding: 'utf8' });
    return { status: run.status, output: `${run.stdout}${run.stderr}`.trim() };
  }

  it.each(modes)('$name: every entry point resolves with its types', ({ name, type, compilerOptions, files }) => {
    const dir = join(work, name.replace(/[^a-z0-9]+/gi, '-'));
    expect(typeCheck(dir, type, compilerOptions, files)).toEqual({ status: 0, output: '' });
  }, 60_000);

  it('node16, CommonJS: a value import resolves the types and is refused only as ESM-only (TS1479)', () => {
    const result = typeCheck(join(work, 'node16-cjs-values'), 'commonjs', { module: 'node16', moduleResolution: 'node16' }, { 'values.ts': valuesConsumer });
    const codes = [...result.output.matchAll(/error (TS\d+)/g)].map((m) => m[1]);
    expect(codes.length).toBeGreaterThan(0);
    expect([...new Set(codes)]).toEqual(['TS1479']);
  }, 60_000);
});
