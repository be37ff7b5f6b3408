#!/usr/bin/env node
// Runs every test: unit tests beside the code (src/**/*.test.ts) and the integration
// tests in test/ (netns tests need root; under CI=true a missing requirement fails).
// Node 20's --test has no glob, so this lists the files. Extra args are passed through
// as file filters: `npm test -- pool` runs only files whose path contains "pool".
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
let files = [...walk('src', []), ...walk('test', [])].sort();
if (filters.length > 0) files = files.filter((f) => filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const args = ['--import', 'tsx', '--test', '--test-timeout=600000', ...files];
const r = spawnSync(process.execPath, args, { stdio: 'inherit', env: { ...process.env, FERRY_POOL_DEBUG: process.env.FERRY_POOL_DEBUG ?? '1' } });
process.exit(r.status ?? 1);
