/**
 * The commands of systemd/ferry@.service as a test runs them: the unit's own Exec lines,
 * with /usr/local/bin/ferry and /usr/local/bin/ferryd pointing at wrappers that run this
 * checkout's sources, and %i replaced by what the test names (a config path: tests never
 * write to /etc).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './wg.js';

export const UNIT = join(REPO, 'systemd/ferry@.service');

export interface UnitCommands {
  /** argv of each Exec… key, with %i replaced. */
  exec(key: 'ExecStart' | 'ExecReload' | 'ExecStop', instance: string): string[];
  /** The wrappers' directory (ferry, ferryd). */
  bindir: string;
}

/** Writes ferry/ferryd wrappers into dir/bin; extra node flags go to ferryd (e.g. a preload). */
export function unitCommands(dir: string, ferrydNodeArgs: string[] = []): UnitCommands {
  const bindir = join(dir, 'bin');
  mkdirSync(bindir, { recursive: true });
  const wrap = (name: string, script: string, extra: string[]) =>
    writeFileSync(join(bindir, name), `#!/bin/sh\ncd '${REPO}' || exit 1\nexec '${process.execPath}' --import tsx ${extra.map((a) => `'${a}'`).join(' ')} '${join(REPO, script)}' "$@"\n`, { mode: 0o755 });
  wrap('ferry', 'src/cli/ferry.ts', []);
  wrap('ferryd', 'src/cli/ferryd.ts', ferrydNodeArgs);
  const text = readFileSync(UNIT, 'utf8');
  return {
    bindir,
    exec(key, instance) {
      const m = new RegExp(`^${key}=(.*)$`, 'm').exec(text);
      if (m === null) throw new Error(`${UNIT} has no ${key}=`);
      // "-" (ignore failure) and other prefixes are systemd's, not part of the command.
      const words = m[1].replace(/^[-@:+!]+/, '').split(/\s+/);
      return words.map((w) => w.replace(/^\/usr\/local\/bin\//, `${bindir}/`).replaceAll('%i', instance));
    },
  };
}
