import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import semver from 'semver';

const root = process.cwd();
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Bare specifiers imported at runtime (type-only imports vanish from the output). */
function runtimeImports(file: string): string[] {
  const code = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const match of code.matchAll(/^\s*(import|export)\s+(type\s+)?[^'";]*?from\s+'([^']+)'/gm)) {
    if (match[2]) continue;
    const specifier = match[3];
    if (specifier.startsWith('.')) continue;
    found.push(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]);
  }
  return found;
}

describe('package manifest', () => {
  it('is ESM with an exports map whose entries all have types and default', () => {
    expect(manifest.name).toBe('@sessionkit/nest');
    expect(manifest.type).toBe('module');
    expect(manifest.engines.node).toBe('>=20.19');
    for (const entry of ['.', './redis', './testing', './graphql']) {
      expect(manifest.exports[entry]).toEqual({ types: expect.stringMatching(/\.d\.ts$/), default: expect.stringMatching(/\.js$/) });
    }
  });

  it('declares every runtime import of src/ (dependency or peer), and ioredis only as an optional peer', () => {
    const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]);
    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    const missing = sourceFiles(join(root, 'src'))
      .flatMap((file) => runtimeImports(file).map((spec) => ({ file, spec })))
      .filter(({ spec }) => !builtins.has(spec) && !declared.has(spec));
    expect(missing).toEqual([]);
    expect(Object.keys(manifest.peerDependencies)).toEqual(expect.arrayContaining(['@nestjs/common', '@nestjs/core', 'rxjs', 'ioredis']));
    expect(manifest.peerDependenciesMeta.ioredis.optional).toBe(true);
    expect(manifest.dependencies.ioredis).toBeUndefined();
  });
});

/** The directory `name` resolves to from `from`, as Node looks it up (nearest node_modules first). */
function installedDir(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Runtime dependencies (transitively, as installed under `projectRoot`) whose `engines.node`
 * does not accept `nodeVersion`, plus any that are not installed at all.
 */
function enginesRejecting(projectRoot: string, nodeVersion: string): string[] {
  const own = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8'));
  const problems: string[] = [];
  const seen = new Set<string>();
  const visit = (deps: Record<string, string> | undefined, from: string) => {
    for (const name of Object.keys(deps ?? {})) {
      const dir = installedDir(name, from);
      if (!dir) {
        problems.push(`${name}: not installed`);
        continue;
      }
      if (seen.has(dir)) continue;
      seen.add(dir);
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      const range: string | undefined = pkg.engines?.node;
      if (range !== undefined && !semver.satisfies(nodeVersion, range)) problems.push(`${name}@${pkg.version}: engines.node "${range}"`);
      visit(pkg.dependencies, dir);
    }
  };
  visit(own.dependencies, projectRoot);
  return problems;
}

describe('runtime dependencies and the Node versions the package supports', () => {
  const minimum = semver.minVersion(manifest.engines.node)?.version;

  it('takes its minimum Node from engines.node', () => {
    expect(minimum).toBe('20.19.0');
  });

  it('the README says which Node is needed, next to the install and test commands at the top', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const fence = readme.indexOf('```bash');
    const top = readme.slice(0, readme.indexOf('```', fence + 3) + 3);
    const [major, minor] = minimum!.split('.');
    expect(top).toContain('npm install && npm start');
    expect(top).toMatch(new RegExp(`Node(\\.js)? ${major}\\.${minor} or later`));
  });

  it("every installed runtime dependency's engines.node accepts that minimum", () => {
    expect(Object.keys(manifest.dependencies ?? {}).length).toBeGreaterThan(0);
    expect(enginesRejecting(root, minimum!)).toEqual([]);
  });

  it('the check itself catches a dependency that needs a newer Node', () => {
    const work = mkdtempSync(join(tmpdir(), 'sessionkit-engines-'));
    try {
      const dep = join(work, 'node_modules', 'needs-node-22');
      mkdirSync(dep, { recursive: true });
      writeFileSync(join(work, 'package.json'), JSON.stringify({ dependencies: { 'needs-node-22': '^2.0.0' } }));
      writeFileSync(join(dep, 'package.json'), JSON.stringify({ name: 'needs-node-22', version: '2.0.2', engines: { node: '>=22' } }));
      expect(enginesRejecting(work, '20.19.0')).toEqual(['needs-node-22@2.0.2: engines.node ">=22"']);
      expect(enginesRejecting(work, '22.0.0')).toEqual([]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('packed package, as a user installs it', () => {
  let work: string;
  let files: string[];

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'sessionkit-pack-'));
    const output = execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const [packed] = JSON.parse(output.slice(output.indexOf('[')));
    files = packed.files.map((f: { path: string }) => f.path);
    // Install by hand: the tarball's content, plus links to the peers an app would have.
    // ioredis is deliberately absent.
    const app = join(work, 'app');
    const target = join(app, 'node_modules', '@sessionkit', 'nest');
    mkdirSync(target, { recursive: true });
    execFileSync('tar', ['-xzf', join(work, packed.filename), '-C', target, '--strip-components=1']);
    for (const dep of ['@nestjs/common', '@nestjs/core', 'rxjs', 'reflect-metadata', 'cookie']) {
      const from = join(root, 'node_modules', dep);
      if (!existsSync(from)) continue;
      const to = join(app, 'node_modules', dep);
      mkdirSync(resolve(to, '..'), { recursive: true });
      symlinkSync(from, to, 'dir');
    }
    writeApp(app);
  }, 120_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  function writeApp(app: string) {
    execFileSync('node', ['-e', `require('fs').writeFileSync(${JSON.stringify(join(app, 'package.json'))}, '{"type":"module"}')`]);
  }

  const run = (code: string, type: 'module' | 'commonjs') =>
    execFileSync('node', [`--input-type=${type}`, '-e', code], { cwd: join(work, 'app'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

  it('contains dist/ and the README, and no tests, sample or sources', () => {
    expect(files).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'dist/redis/index.js', 'dist/testing/index.js', 'dist/graphql/index.js', 'README.md', 'package.json']));
    expect(files.filter((f) => /^(test|sample|src|bench)\//.test(f) || f.endsWith('.spec.js') || f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('imports with `import` and with `require`, without ioredis installed', () => {
    expect(run(`import('@sessionkit/nest').then((m) => console.log(typeof m.SessionModule, typeof m.MemoryStore))`, 'module')).toBe('function function');
    expect(run(`const m = require('@sessionkit/nest'); console.log(typeof m.SessionService, typeof m.CookieStore)`, 'commonjs')).toBe('function function');
    expect(run(`import('@sessionkit/nest/redis').then((m) => console.log(typeof m.RedisStore))`, 'module')).toBe('function');
    expect(run(`import('@sessionkit/nest/testing').then((m) => console.log(typeof m.storeConformanceCases))`, 'module')).toBe('function');
    // The GraphQL wiring needs none of the GraphQL packages (none is installed here).
    expect(run(`import('@sessionkit/nest/graphql').then((m) => console.log(typeof m.sessionApolloPlugin, typeof m.sessionMercuriusRouteOptions))`, 'module')).toBe('function function');
    expect(() => run(`import('graphql')`, 'module')).toThrow();
    expect(() => run(`import('ioredis')`, 'module')).toThrow();
  });
});
