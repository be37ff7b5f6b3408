/**
 * Every export of src/ is imported somewhere: by other source, a test, a benchmark or a
 * script (an export used only by tests counts as used). Dead code then shows up as soon as
 * its last user goes. A name used only inside its own file is not an export: drop the
 * `export`. Re-exports pass use on (`export { a } from './b.js'` used means b's a is used);
 * a dynamic import(), or a namespace import used whole, uses every name.
 * Known exceptions are in unused-exports-allowed.ts, with their reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL, listSources, parseModule, type SourceModule } from '../support/source-graph.js';
import { ALLOWED_UNUSED } from './unused-exports-allowed.js';

/** Everything whose imports count as use. */
const USER_DIRS = ['src', 'test', 'bench', 'scripts'];

/** "path name" for every export of src/ that no other file takes. */
export function unusedExports(modules: ReadonlyMap<string, SourceModule>): string[] {
  const used = new Map<string, Set<string>>();
  const queue: Array<[string, string]> = [];
  const use = (file: string, name: string): void => {
    let names = used.get(file);
    if (names === undefined) used.set(file, (names = new Set()));
    if (names.has(name)) return;
    names.add(name);
    queue.push([file, name]);
  };
  for (const m of modules.values()) {
    for (const ref of m.refs) {
      if (ref.target === null || ref.reexport !== null) continue;
      for (const name of ref.names) use(ref.target, name);
    }
  }
  // Follow re-exports: a name used from a re-exporting file is used from its source.
  while (queue.length > 0) {
    const [file, name] = queue.shift()!;
    const m = modules.get(file);
    if (m === undefined) continue;
    for (const ref of m.refs) {
      if (ref.target === null || ref.reexport === null) continue;
      const { as, star } = ref.reexport;
      for (const [original, exported] of as) {
        if (name === ALL || exported === name) use(ref.target, original);
      }
      if (star && (name === ALL || !m.ownExports.has(name))) use(ref.target, name);
    }
  }
  const out: string[] = [];
  for (const m of modules.values()) {
    if (!m.path.startsWith('src/') || m.path.endsWith('.test.ts')) continue;
    const names = used.get(m.path) ?? new Set<string>();
    if (names.has(ALL)) continue;
    for (const name of m.ownExports.keys()) if (!names.has(name)) out.push(`${m.path} ${name}`);
    for (const ref of m.refs) {
      if (ref.reexport === null) continue;
      for (const exported of ref.reexport.as.values()) if (!names.has(exported)) out.push(`${m.path} ${exported}`);
    }
  }
  return out.sort();
}

function loadAll(): Map<string, SourceModule> {
  const modules = new Map<string, SourceModule>();
  for (const dir of USER_DIRS) for (const path of listSources(dir)) modules.set(path, parseModule(path));
  return modules;
}

test('every export of src/ is used outside its file', () => {
  const unused = unusedExports(loadAll());
  const allowed = new Set(ALLOWED_UNUSED.map(([entry]) => entry));
  assert.deepEqual(
    unused.filter((u) => !allowed.has(u)),
    [],
    'unused exports: delete the dead code, or drop `export` from what only its own file uses',
  );
  const stale = [...allowed].filter((a) => !unused.includes(a));
  assert.deepEqual(stale, [], 'entries of unused-exports-allowed.ts that are used now (or gone): remove them');
});

test('the check follows imports, namespaces and re-exports, and flags the rest', () => {
  const mod = (path: string, ownExports: string[], refs: SourceModule['refs']): [string, SourceModule] => [path, { path, refs, ownExports: new Map(ownExports.map((n) => [n, 1])) }];
  const ref = (target: string, names: string[], reexport: SourceModule['refs'][number]['reexport'] = null): SourceModule['refs'][number] => ({
    target,
    specifier: target,
    names,
    reexport,
    typeOnly: false,
    line: 1,
  });
  const modules = new Map([
    mod('src/a.ts', ['used', 'unused', 'viaAlias', 'viaStar'], []),
    mod('src/b.ts', [], [ref('src/a.ts', [], { as: new Map([['viaAlias', 'alias'], ['unused', 'alsoUnused']]), star: true })]),
    mod('src/c.ts', ['onlyTests'], []),
    mod('src/d.ts', ['x', 'y'], []),
    mod('test/t.test.ts', [], [ref('src/a.ts', ['used']), ref('src/b.ts', ['alias', 'viaStar']), ref('src/c.ts', ['onlyTests']), ref('src/d.ts', [ALL])]),
  ]);
  assert.deepEqual(unusedExports(modules), ['src/a.ts unused', 'src/b.ts alsoUnused']);
});
