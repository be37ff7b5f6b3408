/**
 * A handshake flood against one WireGuard peer (issue 14): a flooder namespace joined to the
 * responder's namespace by its own veth, with 32 source addresses, running
 * handshake-flooder.ts. The responder reaches the sources over that veth's connected route;
 * the flooder reaches the responder's underlay address through it. Used by the handshake
 * flood netns test and `npm run bench -- flood`.
 */
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { netns, vethPair, type Netns, type Scope } from './netns.js';
import { REPO, type WgPeer } from './wg.js';

export const FLOOD_SOURCES = 32;
const FLOODER = join(REPO, 'test/support/handshake-flooder.ts');

export interface FloodResult {
  sent: number;
  seconds: number;
  /** Datagrams the kernel took per second. */
  rate: number;
  /** Datagrams sendmmsg refused with EAGAIN (socket buffer full), and with other errors. */
  blocked: number;
  errors: number;
}

export interface FloodRun {
  /** Ends the flood early (SIGTERM); the result still arrives. */
  stop(): void;
  done: Promise<FloodResult>;
}

export interface Flooder {
  ns: Netns;
  sources: string[];
  /** Starts a flood at the responder's underlay address, port `port`; resolves once it sends. */
  start(options: { port: number; seconds: number; rate?: number }): Promise<FloodRun>;
}

/** A flooder namespace aimed at `responder` (an IPv4-underlay peer of wgPair). */
export function addFlooder(t: Scope, responder: WgPeer): Flooder {
  const ns = netns(t, 'fyfl');
  const veth = vethPair(ns, '10.202.0.2/24', responder.ns, '10.202.0.1/24');
  const sources: string[] = [];
  for (let i = 0; i < FLOOD_SOURCES; i++) {
    const address = `10.202.0.${10 + i}`;
    ns.run('ip', ['addr', 'add', `${address}/32`, 'dev', veth.a]);
    sources.push(address);
  }
  ns.run('ip', ['route', 'add', `${responder.underlay}/32`, 'via', '10.202.0.1']);
  const start = async (options: { port: number; seconds: number; rate?: number }): Promise<FloodRun> => {
    const args = ['--key', responder.publicKey, '--target', responder.underlay, '--port', String(options.port), '--sources', sources.join(','), '--seconds', String(options.seconds), '--rate', String(options.rate ?? 0)];
    const child = ns.spawn(process.execPath, ['--import', 'tsx', FLOODER, ...args], { cwd: REPO });
    let stderr = '';
    child.stderr?.on('data', (d) => (stderr += d));
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const first = await lines.next();
    if (first.done) throw new Error(`flooder exited before it was ready: ${stderr}`);
    const done = (async (): Promise<FloodResult> => {
      const last = await lines.next();
      if (last.done) throw new Error(`flooder ended without a result: ${stderr}`);
      return JSON.parse(last.value) as FloodResult;
    })();
    // A flood whose result nobody awaits (a failing test) must not become an unhandled rejection.
    done.catch(() => undefined);
    return { stop: () => child.kill('SIGTERM'), done };
  };
  return { ns, sources, start };
}

