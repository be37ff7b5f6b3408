/**
 * `ferry capture IFNAME [-w FILE|-] [-c COUNT] [--seconds N] [filters] [EXPRESSION]`:
 * streams pcapng from a running daemon's capture points (tun, inner, outer, drop) over
 * its control socket, to a file or to stdout (`ferry capture wg0 -w - | tshark -r -`).
 * It ends on Ctrl-C (SIGINT), after COUNT packets or N seconds, each with exit status 0,
 * and says on stderr how many packets it captured and how many a slow reader lost.
 * See docs/capture.md.
 */
import { createWriteStream } from 'node:fs';
import { createConnection } from 'node:net';
import type { Writable } from 'node:stream';
import { captureOptions, type CaptureRequestArgs } from '../capture/capture-options.js';
import { BlockType } from '../capture/pcapng.js';
import { controlSocketPath } from '../control/control-server.js';
import { fsPath, ProcessIo, type CliIo } from './wg/cli-io.js';
import { withServiceFilter } from './capture-service.js';

export const CAPTURE_DESCRIPTION = 'Streams pcapng from a ferry daemon\'s capture points (tun, inner, outer, drop)';

export function captureHelp(prog: string): string {
  return [
    `Usage: ${prog} capture <interface> [-w <file> | -w -] [-c <count>] [--seconds <n>]`,
    '         [--point tun,inner,outer,drop] [--plane <name>] [--peer <public-key>] [--vtep <address>]',
    '         [--keys] [--snaplen <bytes>] [<expression>]',
    '',
    `${CAPTURE_DESCRIPTION}, through /run/ferry/<interface>.sock.`,
    'Points: tun (what the host sent and received), inner (plaintext entering or leaving a plane),',
    'outer (the UDP datagrams on the wire), drop (dropped packets, with the reason in the comment).',
    'Expression: host ADDR, net PREFIX, port N (each may follow src or dst), tcp, udp, icmp,',
    'joined with and, or, not and parentheses.',
    '--keys puts the WireGuard session secrets in the file so Wireshark decrypts `outer` by itself:',
    'whoever has the file can read the captured traffic (docs/capture.md).',
    'Ends on Ctrl-C, after <count> packets or <n> seconds; prints "N packets captured, M lost" on stderr.',
    '',
  ].join('\n');
}

interface Parsed {
  ifname: string;
  file: string;
  request: CaptureRequestArgs;
}

function parseArgs(args: readonly string[]): Parsed | string {
  const request: CaptureRequestArgs = {};
  const words: string[] = [];
  let ifname: string | undefined;
  let file = '-';
  const valued = new Set(['-w', '-c', '--seconds', '--point', '--plane', '--peer', '--vtep', '--service', '--snaplen']);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (valued.has(a)) {
      const v = args[++i];
      if (v === undefined) return `${a} needs a value`;
      const num = (name: string): number | string => (/^\d+$/.test(v) ? Number(v) : `${name} must be a non-negative integer, got "${v}"`);
      if (a === '-w') file = v;
      else if (a === '-c' || a === '--seconds' || a === '--snaplen') {
        const n = num(a);
        if (typeof n === 'string') return n;
        if (a === '-c') request.count = n;
        else if (a === '--seconds') request.seconds = n;
        else request.snaplen = n;
      } else if (a === '--point') request.points = v;
      else if (a === '--plane') request.plane = v;
      else if (a === '--peer') request.peer = v;
      else if (a === '--vtep') request.vtep = v;
      else request.service = v;
    } else if (a === '--keys') request.keys = true;
    else if (a.startsWith('-') && a.length > 1) return `unknown option ${a}`;
    else if (ifname === undefined) ifname = a;
    else words.push(a);
  }
  if (ifname === undefined) return 'an interface is needed';
  if (words.length > 0) request.filter = words.join(' ');
  return { ifname, file, request };
}

export async function captureMain(io: CliIo, args: readonly string[]): Promise<number> {
  const parsed = parseArgs(args);
  if (typeof parsed === 'string') {
    io.err(`${io.prog} capture: ${parsed}\n${captureHelp(io.prog)}`);
    return 1;
  }
  try {
    const service = parsed.request.service;
    if (service !== undefined) {
      parsed.request.filter = await withServiceFilter(parsed.ifname, service, parsed.request.filter);
      delete parsed.request.service;
    }
    captureOptions(parsed.request);
  } catch (err) {
    io.err(`${io.prog} capture: ${(err as Error).message}\n`);
    return 1;
  }
  const toStdout = parsed.file === '-';
  if (toStdout && io instanceof ProcessIo && process.stdout.isTTY === true) {
    io.err(`${io.prog} capture: not writing pcapng to a terminal; use -w FILE, or -w - into a pipe (| tshark -r -)\n`);
    return 1;
  }
  // The file is made once the daemon has accepted the capture (mode 0600: it may hold secrets).
  const open = (): Writable | null => (toStdout ? (io instanceof ProcessIo ? process.stdout : null) : createWriteStream(fsPath(parsed.file), { mode: 0o600 }));
  return new Promise<number>((resolve) => new CaptureClient(io, parsed, open, resolve).start());
}

/** Enhanced Packet blocks in a run of whole pcapng blocks (each event carries whole blocks). */
function countPackets(buf: Buffer): number {
  let n = 0;
  for (let p = 0; p + 8 <= buf.length; ) {
    const len = buf.readUInt32LE(p + 4);
    if (len < 12) break;
    if (buf.readUInt32LE(p) === BlockType.EnhancedPacket) n++;
    p += len;
  }
  return n;
}

/** One capture stream from the daemon's socket to the output, and how it ends. */
class CaptureClient {
  private captureId: string | null = null;
  private packets = -1;
  /** Enhanced Packet blocks received: the count when the daemon cannot send its own. */
  private received = 0;
  private lost = 0;
  private finished = false;
  private stopping = false;
  private pending = '';
  private readonly sock;
  private readonly onSigint = () => this.stop();
  private out: Writable | null = null;

  constructor(
    private readonly io: CliIo,
    private readonly parsed: Parsed,
    private readonly open: () => Writable | null,
    private readonly resolve: (code: number) => void,
  ) {
    this.sock = createConnection(controlSocketPath(fsPath(parsed.ifname)));
  }

  start(): void {
    const { sock } = this;
    process.on('SIGINT', this.onSigint);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify({ id: 1, op: 'capture', ...this.parsed.request })}\n`));
    sock.on('data', (chunk: string) => this.data(chunk));
    sock.on('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? 'no ferry daemon answers for it' : err.message;
      this.fail(`Unable to capture on interface ${this.parsed.ifname}: ${why}`);
    });
    sock.on('close', () => this.finish());
  }

  /** The capture is on: open the output. A reader that goes away (tshark exited) ends the capture. */
  private started(id: string): void {
    this.captureId = id;
    this.out = this.open();
    this.out?.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') this.io.err(`${this.io.prog} capture: ${this.parsed.file}: ${err.message}\n`);
      this.stopping = true;
      this.sock.destroy();
    });
  }

  /** Ctrl-C: asks the daemon to end the capture (its last packets still come); a second one quits. */
  private stop(): void {
    if (this.stopping || this.captureId === null) {
      this.sock.destroy();
      return;
    }
    this.stopping = true;
    this.sock.write(`${JSON.stringify({ id: 2, op: 'capture-stop', capture: this.captureId })}\n`);
    setTimeout(() => this.sock.destroy(), 5000).unref();
  }

  private data(chunk: string): void {
    this.pending += chunk;
    let nl: number;
    while ((nl = this.pending.indexOf('\n')) >= 0) {
      const line = this.pending.slice(0, nl);
      this.pending = this.pending.slice(nl + 1);
      let msg: { id?: number; ok?: boolean; event?: { capture?: string; data?: string; lost?: number }; result?: { packets: number; lost: number }; error?: { message: string } };
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        return this.fail('the daemon sent a line that is not JSON');
      }
      if (msg.id === 2) continue;
      if (msg.event !== undefined) {
        const e = msg.event;
        if (typeof e.capture === 'string') this.started(e.capture);
        if (typeof e.lost === 'number') this.lost = e.lost;
        if (typeof e.data === 'string') {
          const buf = Buffer.from(e.data, 'base64');
          this.received += countPackets(buf);
          this.write(buf);
        }
        continue;
      }
      if (msg.ok === false) return this.fail(`${this.io.prog} capture: ${msg.error?.message ?? 'the daemon refused'}`);
      if (msg.result !== undefined) {
        this.packets = msg.result.packets;
        this.lost = msg.result.lost;
      }
      this.sock.end();
      return this.finish();
    }
  }

  private write(buf: Buffer): void {
    if (this.out === null) {
      this.io.out(buf.toString('latin1'));
      return;
    }
    if (!this.out.write(buf)) {
      // Backpressure to the daemon: it keeps its ring and counts what no longer fits.
      this.sock.pause();
      this.out.once('drain', () => this.sock.resume());
    }
  }

  private fail(message: string): void {
    if (this.finished) return;
    this.finished = true;
    process.off('SIGINT', this.onSigint);
    this.sock.destroy();
    this.io.err(`${message}\n`);
    this.endOutput(() => this.resolve(1));
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    process.off('SIGINT', this.onSigint);
    const packets = this.packets < 0 ? this.received : this.packets;
    this.endOutput(() => {
      this.io.err(`${packets} packets captured, ${this.lost} lost\n`);
      this.resolve(0);
    });
  }

  private endOutput(then: () => void): void {
    const out = this.out;
    if (out === null || out === process.stdout) return then();
    out.end(then);
  }
}
