/** Helpers for the install tests: a clean copy of the clone, and the README's install commands. */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Copies what a clone of the working tree holds (tracked files and new files git does not
 * ignore) to `to`: no node_modules, dist or build, as right after `git clone`.
 */
export function copyWorkingTree(from: string, to: string): void {
  const list = execFileSync('git', ['-C', from, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' });
  for (const rel of list.split('\0')) {
    if (rel === '') continue;
    const src = join(from, rel);
    let mode: number;
    try {
      mode = statSync(src).mode;
    } catch {
      continue; // deleted in the working tree, not yet committed
    }
    mkdirSync(dirname(join(to, rel)), { recursive: true });
    copyFileSync(src, join(to, rel));
    chmodSync(join(to, rel), mode & 0o777);
  }
}

/**
 * The README's "Install" section: the first line of its first code block (the install
 * command) and the first code line that contains "uninstall".
 */
export function readmeInstallCommands(readme: string): { install: string; uninstall: string } {
  const start = readme.search(/^## Install\s*$/m);
  if (start < 0) throw new Error('README has no "## Install" section');
  const rest = readme.slice(start + 1);
  const end = rest.search(/^## /m);
  const section = end < 0 ? rest : rest.slice(0, end);
  const blocks = [...section.matchAll(/^```[a-z]*\n([\s\S]*?)^```/gm)].map((m) => m[1]);
  if (blocks.length === 0) throw new Error('the Install section has no code block');
  const strip = (line: string) => line.replace(/\s+#.*$/, '').trim();
  const install = strip(blocks[0].split('\n')[0]);
  const uninstall = blocks.flatMap((b) => b.split('\n')).map(strip).find((l) => l.includes('uninstall'));
  if (uninstall === undefined) throw new Error('the Install section has no code line with "uninstall"');
  return { install, uninstall };
}
