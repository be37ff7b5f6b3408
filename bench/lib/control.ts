/**
 * The child side of a benchmark helper process: prints one JSON line when ready, then
 * answers each "mark" line on stdin with a JSON line of its counters (stamped with the
 * monotonic clock, which every process on the machine shares), and exits on "stop",
 * on SIGTERM/SIGINT or when stdin closes (the parent died). Control path only.
 */
import { createInterface } from 'node:readline';

export interface ControlHandlers {
  /** Counters at this instant. */
  mark(): Record<string, unknown>;
  /** Releases devices and sockets; runs once before exit. */
  close(): void;
}

/** Monotonic nanoseconds as a number (exact to well below a microsecond for days). */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

export function serveControl(ready: Record<string, unknown>, handlers: ControlHandlers): void {
  let closed = false;
  const exit = (code: number) => {
    if (!closed) {
      closed = true;
      try {
        handlers.close();
      } catch (err) {
        console.error(err);
        code = 1;
      }
    }
    process.exit(code);
  };
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const cmd = line.trim();
    if (cmd === 'mark') console.log(JSON.stringify({ t: nowNs(), ...handlers.mark() }));
    else if (cmd === 'stop') exit(0);
    else if (cmd !== '') console.log(JSON.stringify({ error: `unknown command ${JSON.stringify(cmd)}` }));
  });
  rl.on('close', () => exit(0));
  process.on('SIGTERM', () => exit(0));
  process.on('SIGINT', () => exit(130));
  console.log(JSON.stringify({ ready: true, pid: process.pid, ...ready }));
}

/** Reads `--name value` pairs from argv; every name in `required` must be present. */
export function parseArgs(argv: string[], required: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i];
    if (!k.startsWith('--') || i + 1 >= argv.length) throw new Error(`bad argument ${k}: expected --name value pairs`);
    out[k.slice(2)] = argv[i + 1];
  }
  for (const r of required) if (out[r] === undefined) throw new Error(`missing --${r}`);
  return out;
}
