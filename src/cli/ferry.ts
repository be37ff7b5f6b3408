#!/usr/bin/env node
/**
 * ferry: the command line. wg(8)'s verbs (show, showconf, set, setconf, addconf,
 * syncconf, genkey, genpsk, pubkey) with wg's arguments, output, messages and exit codes
 * (0 success, 1 any failure, as wg); wg-quick's verbs (up, down, save, strip) with
 * wg-quick's semantics; and ferry's own verbs (status, drops, stats, reload, vxlan, service,
 * conntrack, capture) answered by the ferry control socket, and `top`, a live view of them.
 * See docs/cli.md.
 *
 * `ferry VERB --help` (or -h) prints the verb's help on stdout and exits 0.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ProcessIo, toBytes, type CliIo } from './wg/cli-io.js';
import { genkeyMain, pubkeyMain } from './wg/genkey.js';
import { setMain } from './wg/set.js';
import { setconfMain } from './wg/setconf.js';
import { readWgConfig } from './wg/conf.js';
import { withFerrySections } from './planes-sync.js';
import { showMain } from './wg/show.js';
import { showconfMain } from './wg/showconf.js';
import { verbHelp, WG_VERBS, type WgVerb } from './wg/usage.js';
import { ExitError } from './wg/values.js';
import { QUICK_VERBS, quickVerbHelp, runQuickVerb, type QuickVerb } from './quick/index.js';
import { FERRY_VERBS, ferryVerbHelp, ferryVerbMain, type FerryVerb } from './ferry-verbs.js';
import { VXLAN_DESCRIPTION, vxlanHelp, vxlanMain } from './vxlan-verb.js';
import { TOP_DESCRIPTION, topHelp, topMain } from './top.js';
import { SERVICE_DESCRIPTION, serviceHelp, serviceMain } from './service-verb.js';
import { CONNTRACK_DESCRIPTION, conntrackHelp, conntrackMain } from './conntrack-verb.js';

type VerbMain = (io: CliIo, args: readonly string[]) => Promise<number>;

const VERBS: Record<WgVerb, VerbMain> = {
  show: showMain,
  showconf: showconfMain,
  set: setMain,
  setconf: (io, args) => setconfMain(io, 'setconf', args),
  addconf: (io, args) => setconfMain(io, 'addconf', args),
  // [Ferry…] sections go to the interface's ferry daemon first (planes-sync.ts).
  syncconf: (io, args) => setconfMain(io, 'syncconf', args, withFerrySections(readWgConfig, args[0])),
  genkey: (io, args) => genkeyMain(io, 'genkey', args),
  genpsk: (io, args) => genkeyMain(io, 'genpsk', args),
  pubkey: pubkeyMain,
};

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return `ferry v${pkg.version}`;
}

export function mainUsage(prog: string): string {
  let out = `Usage: ${prog} <cmd> [<args>]\n\nAvailable subcommands:\n`;
  for (const { verb, description } of WG_VERBS) out += `  ${verb}: ${description}\n`;
  for (const { verb, description } of QUICK_VERBS) out += `  ${verb}: ${description}\n`;
  for (const { verb, description } of FERRY_VERBS) out += `  ${verb}: ${description}\n`;
  out += `  vxlan: ${VXLAN_DESCRIPTION}\n`;
  out += `  top: ${TOP_DESCRIPTION}\n`;
  out += `  service: ${SERVICE_DESCRIPTION}\n`;
  out += `  conntrack: ${CONNTRACK_DESCRIPTION}\n`;
  return `${out}You may pass \`--help' to any of these subcommands to view usage.\n`;
}

function isVerb(word: string): word is WgVerb {
  return Object.hasOwn(VERBS, word);
}

function isQuickVerb(word: string): word is QuickVerb {
  return QUICK_VERBS.some((v) => v.verb === word);
}

function isFerryVerb(word: string): word is FerryVerb {
  return FERRY_VERBS.some((v) => v.verb === word);
}

/** Runs one command line (argv without node and the script); returns the exit code. */
export async function run(io: CliIo, argv: readonly string[]): Promise<number> {
  if (argv.length === 1 && ['-v', '--version', 'version'].includes(argv[0])) {
    io.out(`${version()}\n`);
    return 0;
  }
  if (argv.length === 1 && ['-h', '--help', 'help'].includes(argv[0])) {
    io.out(mainUsage(io.prog));
    return 0;
  }
  if (argv.length === 0) return showMain(io, []);
  const [verb, ...args] = argv;
  const wantsHelp = args.length === 1 && (args[0] === '--help' || args[0] === '-h');
  if (isQuickVerb(verb)) {
    if (wantsHelp) {
      io.out(quickVerbHelp(io.prog, verb));
      return 0;
    }
    // Hooks and ip(8) write to the terminal directly; ferry's own lines must interleave
    // with theirs, so this verb writes straight to the process streams when it has them.
    const streams = io instanceof ProcessIo ? { stdout: process.stdout, stderr: process.stderr } : { stdout: { write: (s: string) => io.out(s) }, stderr: { write: (s: string) => io.err(s) } };
    if (io instanceof ProcessIo) await io.flush();
    return runQuickVerb(verb, [...args], streams);
  }
  if (isFerryVerb(verb)) {
    if (wantsHelp) {
      io.out(ferryVerbHelp(io.prog, verb));
      return 0;
    }
    return ferryVerbMain(io, verb, args);
  }
  if (verb === 'vxlan') {
    if (wantsHelp) {
      io.out(vxlanHelp(io.prog));
      return 0;
    }
    return vxlanMain(io, args);
  }
  if (verb === 'top') {
    if (wantsHelp) {
      io.out(topHelp(io.prog));
      return 0;
    }
    return topMain(io, args);
  }
  if (verb === 'service' || verb === 'conntrack') {
    if (wantsHelp) {
      io.out(verb === 'service' ? serviceHelp(io.prog) : conntrackHelp(io.prog));
      return 0;
    }
    return verb === 'service' ? serviceMain(io, args) : conntrackMain(io, args);
  }
  if (!isVerb(verb)) {
    io.err(`Invalid subcommand: \`${verb}'\n${mainUsage(io.prog)}`);
    return 1;
  }
  if (args.length === 1 && (args[0] === '--help' || args[0] === '-h')) {
    io.out(verbHelp(io.prog, verb));
    return 0;
  }
  try {
    return await VERBS[verb](io, args);
  } catch (err) {
    if (err instanceof ExitError) return err.code;
    throw err;
  }
}

async function main(): Promise<void> {
  const io = new ProcessIo();
  let code: number;
  try {
    code = await run(io, process.argv.slice(2).map(toBytes));
  } catch (err) {
    io.err(`${io.prog}: ${(err as Error).message}\n`);
    code = 1;
  }
  await io.flush();
  process.exitCode = code;
}

const invoked = process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
if (invoked) void main();
