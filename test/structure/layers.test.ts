/**
 * Imports point down the layers (docs/architecture.md, "Layers"): a source file of src/
 * imports only from its own layer or the layers below. The table below is the one
 * statement of the order; the doc shows the same table, and a test here keeps the two
 * equal. Test files (*.test.ts) are exempt: a unit test may set up its subject with the
 * layers above it (a datapath test with the UAPI backend, an LB test from a config file).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isTestFile, listSources, parseModule, REPO, srcFolder } from '../support/source-graph.js';

/** Bottom to top. A folder may import from its own row and the rows above it in this list. */
const LAYERS: ReadonlyArray<readonly string[]> = [
  ['errors', 'stats', 'text'],
  ['packet', 'buffer', 'native'],
  ['io', 'crypto', 'table'],
  ['datapath'],
  ['wireguard', 'vxlan', 'lb'],
  ['uapi', 'config', 'control', 'capture'],
  ['daemon'],
  ['cli'],
];

/**
 * Known exceptions, each "importer -> imported" (repository paths). Empty this list, do not
 * grow it: the control path is moving its prefix text from wireguard/allowed-ips.ts to the
 * address text module (issue 13); until that work is merged, these importers are expected.
 */
const KNOWN: readonly string[] = [];

/**
 * Imports that respect the order but reach for the wrong module: [importer pattern,
 * imported file, why]. Address and prefix text is not WireGuard's to hand out.
 */
const WRONG_SOURCE: ReadonlyArray<readonly [RegExp, string, string]> = [
  [/^src\/(config|control|cli)\//, 'src/wireguard/allowed-ips.ts', 'the control path takes prefix text from the address text module, not from WireGuard'],
];

function layerOf(folder: string): number {
  return LAYERS.findIndex((row) => row.includes(folder));
}

function findings(): { problems: string[]; known: string[] } {
  const problems: string[] = [];
  const known: string[] = [];
  for (const path of listSources('src')) {
    if (isTestFile(path)) continue;
    const from = srcFolder(path);
    const mine = layerOf(from);
    if (mine < 0) {
      problems.push(`${path}: folder "${from}" has no layer (add it to LAYERS here and in docs/architecture.md)`);
      continue;
    }
    for (const ref of parseModule(path).refs) {
      if (ref.target === null) continue;
      const edge = `${path} -> ${ref.target}`;
      if (!ref.target.startsWith('src/')) {
        problems.push(`${path}:${ref.line}: imports ${ref.target}: source never imports tests, benchmarks or scripts`);
        continue;
      }
      const to = srcFolder(ref.target);
      const theirs = layerOf(to);
      let why: string | null = null;
      if (theirs > mine) why = `imports upward: ${from} (layer ${mine}) -> ${to} (layer ${theirs})`;
      for (const [importer, imported, reason] of WRONG_SOURCE) if (importer.test(path) && ref.target === imported) why = reason;
      if (why === null) continue;
      if (KNOWN.includes(edge)) known.push(edge);
      else problems.push(`${path}:${ref.line}: ${why}`);
    }
  }
  return { problems, known: [...new Set(known)] };
}

test('src/ imports point down the layers', () => {
  const { problems, known } = findings();
  assert.deepEqual(problems, []);
  const stale = KNOWN.filter((e) => !known.includes(e));
  assert.deepEqual(stale, [], 'known exceptions that no longer occur: remove them from KNOWN');
});

test('every src/ folder has a layer, and docs/architecture.md shows the same table', () => {
  const folders = new Set(listSources('src').map(srcFolder));
  const missing = [...folders].filter((f) => layerOf(f) < 0);
  assert.deepEqual(missing, []);
  const doc = readFileSync(join(REPO, 'docs/architecture.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Layers'));
  const rows = [...section.matchAll(/^\| (\d+) \| ([^|]+) \|/gm)].map((m) => [Number(m[1]), m[2].split(',').map((s) => s.trim().replace(/`/g, ''))] as const);
  assert.deepEqual(
    rows.map(([n, names]) => [n, [...names].sort()]),
    LAYERS.map((row, i) => [i, [...row].sort()]),
    'the table under "## Layers" in docs/architecture.md lists the layers of LAYERS, bottom (0) first',
  );
});

test('the checker sees an upward import, a test exemption and a package import', () => {
  // A fixed sample from the tree: the datapath's own test imports the daemon (exempt), and
  // every folder's layer is below or at cli's.
  const sample = parseModule('src/datapath/datapath.test.ts');
  assert.ok(sample.refs.some((r) => r.target === 'src/daemon/uapi-backend.ts'), 'the parser resolves "../daemon/uapi-backend.js"');
  assert.ok(layerOf('daemon') > layerOf('datapath'), 'so that import is upward, and only the exemption of tests lets it pass');
  const io = parseModule('src/io/udp.ts');
  assert.ok(io.refs.some((r) => r.target === null && r.specifier === 'node:os'), 'packages resolve to no file');
  assert.ok(io.refs.some((r) => r.target === 'src/buffer/pool.ts' && r.typeOnly), 'type-only imports count too');
});
