#!/usr/bin/env node
// `npm run bench -- NAME [args]` runs bench/NAME.ts. Each benchmark runs ferry and its
// anchor side by side and prints JSON lines; the last holds bench/metric/value/unit/baseline/ratio.
import { existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const [name, ...rest] = process.argv.slice(2);
const available = readdirSync('bench').filter((f) => f.endsWith('.ts') && !f.includes('.test.')).map((f) => f.slice(0, -3));
if (!name || !existsSync(`bench/${name}.ts`)) {
  console.error(`usage: npm run bench -- NAME   (one of: ${available.sort().join(', ')})`);
  process.exit(2);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', `bench/${name}.ts`, ...rest], { stdio: 'inherit' });
process.exit(r.status ?? 1);
