/**
 * ferry's own verbs, answered by the ferry control socket of a running daemon
 * (/run/ferry/IFNAME.sock, docs/control-socket.md): status, drops, stats, reload, and
 * capture (its own module: a stream, capture-verb.ts).
 * `--json` prints the raw result.
 */
import { readdirSync } from 'node:fs';
import { controlRequest } from '../control/control-client.js';
import { CONTROL_DIR } from '../control/control-server.js';
import type { CliIo } from './wg/cli-io.js';
import { reloadMain } from './ferry-reload.js';
import { CAPTURE_DESCRIPTION, captureHelp, captureMain } from './capture-verb.js';

export type FerryVerb = 'status' | 'drops' | 'stats' | 'reload' | 'capture';

export const FERRY_VERBS: readonly { verb: FerryVerb; description: string }[] = [
  { verb: 'status', description: 'Shows what a ferry daemon runs: interface, keys, port, peers, uptime' },
  { verb: 'drops', description: 'Shows packets a ferry daemon dropped, by reason' },
  { verb: 'stats', description: 'Shows a ferry daemon\'s packet, pool and memory counters' },
  { verb: 'reload', description: 'Makes a ferry daemon re-read its config file (syncconf: unchanged peers keep their sessions)' },
  { verb: 'capture', description: CAPTURE_DESCRIPTION },
];

export function ferryVerbHelp(prog: string, verb: FerryVerb): string {
  if (verb === 'capture') return captureHelp(prog);
  if (verb === 'reload') return `Usage: ${prog} reload <interface>\n\nMakes the ferry daemon of <interface> re-read the config file it was started from\n(ferry up, ferryd --up, ferry@.service) and apply it as syncconf does: peers gone from\nthe file are removed, the others updated in place. A file with errors changes nothing.\n`;
  const d = FERRY_VERBS.find((v) => v.verb === verb)?.description ?? '';
  return `Usage: ${prog} ${verb} [<interface> | all] [--json]\n\n${d}.\nIt asks the daemon on /run/ferry/<interface>.sock; without an interface, every one there.\n`;
}

function interfaces(dir = CONTROL_DIR): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.sock'))
      .map((f) => f.slice(0, -5))
      .sort();
  } catch {
    return [];
  }
}

function pretty(value: unknown, indent = '  '): string {
  if (value === null || typeof value !== 'object') return `${String(value)}\n`;
  let out = '';
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v !== null && typeof v === 'object') out += `${indent}${k}:\n${pretty(v, `${indent}  `)}`;
    else out += `${indent}${k}: ${String(v)}\n`;
  }
  return out === '' ? `${indent}(none)\n` : out;
}

export async function ferryVerbMain(io: CliIo, verb: FerryVerb, args: readonly string[]): Promise<number> {
  if (verb === 'capture') return captureMain(io, args);
  if (verb === 'reload') {
    if (args.length !== 1) {
      io.err(ferryVerbHelp(io.prog, verb));
      return 1;
    }
    return reloadMain(io, args[0]);
  }
  const json = args.includes('--json');
  const rest = args.filter((a) => a !== '--json');
  if (rest.length > 1) {
    io.err(ferryVerbHelp(io.prog, verb));
    return 1;
  }
  const names = rest.length === 0 || rest[0] === 'all' ? interfaces() : [rest[0]];
  if (names.length === 0 && rest.length === 0) return 0;
  let code = 0;
  for (const name of names) {
    try {
      const result = await controlRequest(name, verb);
      if (json) io.out(`${JSON.stringify(names.length > 1 ? { interface: name, [verb]: result } : result)}\n`);
      else {
        // The header names the interface; do not repeat it inside.
        const { interface: _ifname, ...rest } = (result ?? {}) as Record<string, unknown>;
        io.out(`interface: ${name}\n${pretty(rest)}`);
      }
    } catch (err) {
      const e = err as Error & { code?: string };
      const why = e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? 'no ferry daemon answers for it' : e.message;
      io.err(`Unable to access interface ${name}: ${why}\n`);
      code = 1;
    }
  }
  return code;
}
