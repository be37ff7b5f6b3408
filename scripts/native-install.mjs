#!/usr/bin/env node
// npm's "install" step for the native addon. A packed ferry (npm pack, npm install -g)
// carries build/Release/ferry.node: when that addon loads in this Node and no source is
// newer than it, it is kept, so an install needs no compiler and works the same whether
// npm runs this script or skips it (npm 11 may skip install scripts it was not told to
// allow). Otherwise, as in a fresh clone or after a change to native/, node-gyp builds it.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const ADDON = 'build/Release/ferry.node';

function newestSource() {
  let newest = statSync('binding.gyp').mtimeMs;
  const dir = 'native/src';
  for (const name of existsSync(dir) ? readdirSync(dir) : []) newest = Math.max(newest, statSync(join(dir, name)).mtimeMs);
  return newest;
}

function carriedAddonUsable() {
  if (!existsSync(ADDON)) return 'no addon yet';
  if (statSync(ADDON).mtimeMs < newestSource()) return 'sources are newer than the addon';
  try {
    createRequire(import.meta.url)(`../${ADDON}`);
    return null;
  } catch (err) {
    return `the addon does not load here (${err.message})`;
  }
}

const why = carriedAddonUsable();
if (why === null) {
  console.log(`ferry: keeping ${ADDON} (it loads in this Node and is up to date)`);
  process.exit(0);
}
console.log(`ferry: building the native addon: ${why}`);
const r = spawnSync('node-gyp', ['rebuild'], { stdio: 'inherit' });
if (r.error) console.error(`ferry: cannot run node-gyp (${r.error.message}); run this through npm, which provides it`);
process.exit(r.status ?? 1);
