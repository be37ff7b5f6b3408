#!/usr/bin/env node
// After tsc: the files package.json names as bins get mode 0755, so a clone's
// dist/cli/ferry.js and dist/cli/ferryd.js run by path as the installed commands do
// (tsc writes them 0644; npm sets the mode only when it links a package's bins).
import { chmodSync, readFileSync } from 'node:fs';

const { bin } = JSON.parse(readFileSync('package.json', 'utf8'));
for (const file of Object.values(bin ?? {})) chmodSync(file, 0o755);
