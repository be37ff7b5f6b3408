/** Helper processes of the netns tests: started inside a namespace, talking JSON lines on stdout. */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Netns } from '../../support/netns.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const helper = (name: string) => fileURLToPath(new URL(`./${name}`, import.meta.url));

export interface Helper {
  child: ChildProcess;
  lines: AsyncIterator<string>;
  stderr: () => string;
}

/** Starts test/netns/helpers/SCRIPT under node + tsx inside the namespace. */
export function startHelper(ns: Netns, script: string, args: string[], stdin: 'ignore' | 'pipe' = 'ignore'): Helper {
  const child = ns.spawn(process.execPath, ['--import', 'tsx', helper(script), ...args], { cwd: repoRoot, stdio: [stdin, 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return { child, lines, stderr: () => err };
}

/** The helper's next JSON line, or an error naming `what` after timeoutMs. */
export async function nextJson(h: Helper, what: string, timeoutMs: number): Promise<Record<string, unknown>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no output within ${timeoutMs} ms; stderr: ${h.stderr()}`)), timeoutMs);
  });
  try {
    const r = await Promise.race([h.lines.next(), timeout]);
    if (r.done) throw new Error(`${what} exited without output; stderr: ${h.stderr()}`);
    return JSON.parse(r.value) as Record<string, unknown>;
  } finally {
    clearTimeout(timer);
  }
}
