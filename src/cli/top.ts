/**
 * `ferry top IFNAME`: a live view of a running interface, redrawn once a second from the
 * daemon's control socket (status, stats, drops, peers): planes, peers with their rates and
 * handshakes, hosted planes (VXLAN, services) and the drop reasons that are moving. Ends
 * on Ctrl-C or `q`. `--once` prints one frame (two samples an interval apart) and exits,
 * for scripts and for terminals that should not be redrawn.
 */
import { controlRequest } from '../control/control-client.js';
import type { CliIo } from './wg/cli-io.js';
import { renderTop, type TopSample } from './top-view.js';

export const TOP_DESCRIPTION = 'Shows a live view of a ferry interface: planes, peers, rates, handshakes, drops';

export function topHelp(prog: string): string {
  return [
    `Usage: ${prog} top <interface> [--once] [--interval <seconds>]`,
    '',
    `${TOP_DESCRIPTION}, refreshed every second (or <seconds>) from /run/ferry/<interface>.sock.`,
    'q or Ctrl-C ends it. --once prints a single frame and exits.',
    '',
  ].join('\n');
}

async function sample(ifname: string): Promise<TopSample> {
  const [status, stats, drops, peers] = await Promise.all(['status', 'stats', 'drops', 'peers'].map((op) => controlRequest(ifname, op)));
  return { status, stats, drops, peers } as TopSample;
}

/** A live view must reach the terminal now, not when the command ends. */
function flush(io: CliIo): Promise<void> {
  const f = (io as Partial<{ flush(): Promise<void> }>).flush;
  return f === undefined ? Promise.resolve() : f.call(io);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CLEAR = '\x1b[H\x1b[2J';

export async function topMain(io: CliIo, args: readonly string[]): Promise<number> {
  let once = false;
  let interval = 1;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--once') once = true;
    else if (args[i] === '--interval') {
      interval = Number(args[++i]);
      if (!(interval >= 0.1 && interval <= 3600)) {
        io.err(`Invalid --interval \`${args[i] ?? ''}': expected seconds from 0.1 to 3600\n`);
        return 1;
      }
    } else rest.push(args[i]);
  }
  if (rest.length !== 1 || rest[0].startsWith('-')) {
    io.err(topHelp(io.prog));
    return 1;
  }
  const ifname = rest[0];
  let prev: TopSample;
  try {
    prev = await sample(ifname);
  } catch (err) {
    const e = err as Error & { code?: string };
    io.err(`Unable to access interface ${ifname}: ${e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? 'no ferry daemon answers for it' : e.message}\n`);
    return 1;
  }
  const tty = !once && io.stdoutIsTTY;
  let stop = false;
  const onKey = (key: Buffer) => {
    if (key[0] === 0x71 /* q */ || key[0] === 0x03 /* Ctrl-C in raw mode */) stop = true;
  };
  const onSigint = () => (stop = true);
  process.on('SIGINT', onSigint);
  if (tty && process.stdin.isTTY) {
    process.stdin.setRawMode(true);
    process.stdin.on('data', onKey);
  }
  try {
    while (!stop) {
      const started = performance.now();
      await sleep(interval * 1000);
      if (stop) break;
      let next: TopSample;
      try {
        next = await sample(ifname);
      } catch (err) {
        io.err(`ferry top: ${ifname} stopped answering: ${(err as Error).message}\n`);
        return 1;
      }
      const frame = renderTop(prev, next, (performance.now() - started) / 1000, Date.now() / 1000);
      io.out(tty ? `${CLEAR}${frame}` : frame);
      if (!tty && !once) io.out('\n');
      await flush(io);
      prev = next;
      if (once) break;
    }
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    if (tty && process.stdin.isTTY) {
      process.stdin.off('data', onKey);
      process.stdin.setRawMode(false);
      process.stdin.pause();
    }
  }
}
