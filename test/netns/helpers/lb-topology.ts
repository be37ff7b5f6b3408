/**
 * The load balancer's test network, through the real daemon: ferry's namespace runs
 * `ferry up` with a config file holding [FerryLb]/[FerryService] (so ferryd mounts the LB,
 * ferry up routes the service range into the interface and turns forwarding on), a client
 * namespace routed through ferry's, and three backend namespaces each running a TCP+UDP
 * server that answers with its name (b1, b2, b3 at 10.0.N.2 and fd00:N::2, port 8080):
 *
 *   client 10.200.0.2 ── veth ── ferry ns (ferry up: 10.96.0.0/16 and fd00:96::/112 → IF) ── veth ── bN
 *                                  └─ ferryd: TUN ⇄ Datapath + LB (translated packets back out the TUN)
 *
 * Reloads write the file and ask the daemon (`ferry reload`); stats come from the control
 * socket (`ferry service show`, `ferry drops`) and health events from ferryd's log.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { controlRequest } from '../../../src/control/control-client.js';
import type { ConntrackListing } from '../../../src/lb/conntrack-list.js';
import type { ServiceView } from '../../../src/lb/service-view.js';
import { netns, uniqueName, vethPair, type Netns, type Scope } from '../../support/netns.js';
import { ferry, workspace, type Run, type Workspace } from '../../support/quick-workspace.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const ENDPOINTS = join(root, 'test/netns/helpers/lb-endpoints.mjs');

export const LB_HEAD = `[FerryLb]
ServiceRange = 10.96.0.0/16, fd00:96::/112
SnatAddress = 10.96.255.254, fd00:96::fffe
`;

/** One service over the three backends; `extra` lines go into the service (weights via `weights`). */
export function service(name: string, address: string, proto: 'tcp' | 'udp', v6: boolean, extra = '', weights = [1, 1, 1], skip: number[] = []): string {
  const backends = [1, 2, 3]
    .filter((n) => !skip.includes(n))
    .map((n) => `Backend = ${v6 ? `[fd00:${n}::2]` : `10.0.${n}.2`}:8080${weights[n - 1] !== 1 ? ` weight=${weights[n - 1]}` : ''}\n`)
    .join('');
  return `[FerryService]\nName = ${name}\nAddress = ${address}\nProtocol = ${proto}\n${backends}${extra}`;
}

/** Lines on a child's stdout, parsed as JSON, awaited one at a time. */
export class JsonLines {
  readonly all: unknown[] = [];
  private waiters: Array<(v: unknown) => void> = [];
  private read = 0;

  constructor(child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch {
        return;
      }
      this.all.push(v);
      this.waiters.shift()?.(v);
    });
  }

  /** The next line not yet taken (waits for it, at most ms). */
  next(ms = 20_000): Promise<unknown> {
    if (this.read < this.all.length) return Promise.resolve(this.all[this.read++]);
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line within ${ms} ms`)), ms);
      this.waiters.push((v) => {
        clearTimeout(timer);
        this.read++;
        resolvePromise(v);
      });
    });
  }
}

export interface LbNet {
  ferry: Netns;
  client: Netns;
  backends: Netns[];
  servers: ChildProcess[];
  ifname: string;
  ws: Workspace;
  /** What `ferry up` printed. */
  up: Run;
  /** Writes the config file (the [Interface] part kept) and has the daemon reload it. */
  apply(config: string): Promise<void>;
  stats(): Promise<StatsView>;
  conntrack(filter?: Record<string, unknown>): Promise<ConntrackListing>;
  /** Runs lb-endpoints.mjs in the client namespace; resolves with its JSON lines when it exits. */
  runClient(args: string[], onStart?: (child: ChildProcess, lines: JsonLines) => void): Promise<unknown[]>;
}

export interface StatsView {
  /** The interface's drops by reason, no_route aside (what the kernel itself sends into a fresh TUN). */
  drops: Record<string, number>;
  conntrack: number;
  /** ferryd's log lines about backends going up or down. */
  events: string[];
  services: ServiceView[];
}

export interface LbNetOptions {
  /** More [Interface] lines (a PrivateKey, a ListenPort). */
  iface?: string;
  /** [Peer] sections, after the LB's. */
  peers?: string;
}

export async function lbNet(t: Scope & { diagnostic(msg: string): void }, config: string, options: LbNetOptions = {}): Promise<LbNet> {
  const ferryNs = netns(t, 'lbf');
  const client = netns(t, 'lbc');
  const backends = [1, 2, 3].map(() => netns(t, 'lbb'));
  const c = vethPair(client, '10.200.0.2/24', ferryNs, '10.200.0.1/24');
  client.run('ip', ['-6', 'addr', 'add', 'fd00:200::2/64', 'dev', c.a, 'nodad']);
  ferryNs.run('ip', ['-6', 'addr', 'add', 'fd00:200::1/64', 'dev', c.b, 'nodad']);
  client.run('ip', ['route', 'add', 'default', 'via', '10.200.0.1']);
  client.run('ip', ['-6', 'route', 'add', 'default', 'via', 'fd00:200::1']);
  backends.forEach((b, i) => {
    const n = i + 1;
    const v = vethPair(b, `10.0.${n}.2/24`, ferryNs, `10.0.${n}.1/24`);
    b.run('ip', ['-6', 'addr', 'add', `fd00:${n}::2/64`, 'dev', v.a, 'nodad']);
    ferryNs.run('ip', ['-6', 'addr', 'add', `fd00:${n}::1/64`, 'dev', v.b, 'nodad']);
    b.run('ip', ['route', 'add', 'default', 'via', `10.0.${n}.1`]);
    b.run('ip', ['-6', 'route', 'add', 'default', 'via', `fd00:${n}::1`]);
  });
  const servers = await Promise.all(backends.map((b, i) => startServer(b, `b${i + 1}`)));

  const ws = workspace(t);
  const ifname = uniqueName('lbt');
  ws.track(ferryNs, ifname);
  const fileText = (lb: string) => `[Interface]\nAddress = 10.96.255.253/32\n${options.iface ?? ''}\n${lb}\n${options.peers ?? ''}`;
  const path = ws.config(ifname, fileText(config));
  const up = ferry(ferryNs, 'up', path, { FERRYD: ws.ferryd });
  if (up.status !== 0) throw new Error(`ferry up failed: ${up.stderr}\n${readFileSync(ws.log, 'utf8')}`);

  return {
    ferry: ferryNs,
    client,
    backends,
    servers,
    ifname,
    ws,
    up,
    apply: async (text) => {
      ws.config(ifname, fileText(text));
      const r = (await controlRequest(ifname, 'reload', {}, undefined, 30_000)) as { ok: boolean; errors: string[] };
      if (!r.ok) throw new Error(`reload refused: ${r.errors.join('; ')}`);
    },
    stats: async () => {
      const services = (await controlRequest(ifname, 'service-show')) as ServiceView[];
      const total = ((await controlRequest(ifname, 'drops')) as { total: Record<string, number> }).total;
      const conntrack = ((await controlRequest(ifname, 'conntrack', { limit: 1 })) as ConntrackListing).count;
      const events = readFileSync(ws.log, 'utf8').split('\n').filter((l) => / (up|down): /.test(l) && l.includes('backend '));
      return { services, drops: Object.fromEntries(Object.entries(total).filter(([k]) => k !== 'no_route')), conntrack, events };
    },
    conntrack: async (filter = {}) => (await controlRequest(ifname, 'conntrack', filter)) as ConntrackListing,
    runClient: (args, onStart) => runEndpoints(client, args, onStart),
  };
}

/** Starts lb-endpoints' server NAME on port 8080 in ns; resolves once it listens. */
export async function startServer(ns: Netns, name: string): Promise<ChildProcess> {
  const child = ns.spawn(process.execPath, [ENDPOINTS, 'server', name, '8080']);
  await new JsonLines(child).next();
  return child;
}

/** Runs lb-endpoints.mjs ARGS in ns; resolves with its JSON lines when it exits 0. */
export function runEndpoints(ns: Netns, args: string[], onStart?: (child: ChildProcess, lines: JsonLines) => void): Promise<unknown[]> {
  return new Promise((resolvePromise, reject) => {
    const child = ns.spawn(process.execPath, [ENDPOINTS, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out = new JsonLines(child);
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    onStart?.(child, out);
    child.on('close', (code) => (code === 0 ? resolvePromise(out.all) : reject(new Error(`client ${args.join(' ')} exited ${code}: ${err}`))));
  });
}

/** Kills a process started with Netns.spawn (its whole group). */
export function kill(child: ChildProcess): void {
  if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
}
