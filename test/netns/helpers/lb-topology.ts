/**
 * The load balancer's test network: ferry's namespace with a real TUN (lb-node.ts), a
 * client namespace whose service range is routed through ferry's namespace into the TUN,
 * and three backend namespaces each running a TCP+UDP server that answers with its name
 * (b1, b2, b3 at 10.0.N.2 and fd00:N::2, port 8080):
 *
 *   client 10.200.0.2 ── veth ── ferry ns (forwarding; 10.96.0.0/16 and fd00:96::/112 → TUN) ── veth ── bN
 *                                  └─ lb-node: TUN ⇄ Datapath + LB (translated packets back out the TUN)
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { netns, uniqueName, vethPair, type Netns, type Scope } from '../../support/netns.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const ENDPOINTS = join(root, 'test/netns/helpers/lb-endpoints.mjs');
const LB_NODE = join(root, 'test/netns/helpers/lb-node.ts');

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
  /** Sends a command to lb-node and returns its JSON answer. */
  command(cmd: string): Promise<Record<string, unknown>>;
  /** Writes a config file and applies it. */
  apply(config: string): Promise<Record<string, unknown>>;
  stats(): Promise<StatsView>;
  /** Runs lb-endpoints.mjs in the client namespace; resolves with its JSON lines when it exits. */
  runClient(args: string[], onStart?: (child: ChildProcess, lines: JsonLines) => void): Promise<unknown[]>;
}

export interface StatsView {
  drops: Record<string, number>;
  conntrack: number;
  events: string[];
  services: Array<{ name: string; connections: number; backends: Record<string, { healthy: boolean; connections: number; flows: number; refused: number }> }>;
}

export async function lbNet(t: Scope, config: string): Promise<LbNet> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-lb-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ferry = netns(t, 'lbf');
  const client = netns(t, 'lbc');
  const backends = [1, 2, 3].map(() => netns(t, 'lbb'));
  ferry.run('sysctl', ['-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
  const c = vethPair(client, '10.200.0.2/24', ferry, '10.200.0.1/24');
  client.run('ip', ['-6', 'addr', 'add', 'fd00:200::2/64', 'dev', c.a, 'nodad']);
  ferry.run('ip', ['-6', 'addr', 'add', 'fd00:200::1/64', 'dev', c.b, 'nodad']);
  client.run('ip', ['route', 'add', 'default', 'via', '10.200.0.1']);
  client.run('ip', ['-6', 'route', 'add', 'default', 'via', 'fd00:200::1']);
  backends.forEach((b, i) => {
    const n = i + 1;
    const v = vethPair(b, `10.0.${n}.2/24`, ferry, `10.0.${n}.1/24`);
    b.run('ip', ['-6', 'addr', 'add', `fd00:${n}::2/64`, 'dev', v.a, 'nodad']);
    ferry.run('ip', ['-6', 'addr', 'add', `fd00:${n}::1/64`, 'dev', v.b, 'nodad']);
    b.run('ip', ['route', 'add', 'default', 'via', `10.0.${n}.1`]);
    b.run('ip', ['-6', 'route', 'add', 'default', 'via', `fd00:${n}::1`]);
  });
  const servers = await Promise.all(
    backends.map(async (b, i) => {
      const child = b.spawn(process.execPath, [ENDPOINTS, 'server', `b${i + 1}`, '8080']);
      await new JsonLines(child).next();
      return child;
    }),
  );

  const tun = uniqueName('lbt');
  let n = 0;
  const write = (text: string) => {
    const path = join(dir, `lb${n++}.conf`);
    writeFileSync(path, text);
    return path;
  };
  const lb = ferry.spawn(process.execPath, ['--import', 'tsx', LB_NODE, tun, write(config)], { stdio: ['pipe', 'pipe', 'pipe'], cwd: root });
  let stderr = '';
  lb.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = new JsonLines(lb);
  const ready = (await lines.next(30_000).catch((err: Error) => {
    throw new Error(`lb-node did not start: ${err.message}: ${stderr}`);
  })) as { ready?: boolean };
  if (ready.ready !== true) throw new Error(`lb-node: ${JSON.stringify(ready)} ${stderr}`);
  ferry.run('ip', ['addr', 'add', '10.96.255.253/32', 'dev', tun]);
  ferry.run('ip', ['route', 'add', '10.96.0.0/16', 'dev', tun]);
  ferry.run('ip', ['-6', 'route', 'add', 'fd00:96::/112', 'dev', tun]);

  const command = async (cmd: string) => {
    lb.stdin!.write(`${cmd}\n`);
    const v = (await lines.next()) as Record<string, unknown>;
    if (v.error !== undefined) throw new Error(`lb-node ${cmd}: ${String(v.error)}`);
    return v;
  };
  return {
    ferry,
    client,
    backends,
    servers,
    command,
    apply: (text) => command(`apply ${write(text)}`),
    stats: async () => (await command('stats')).stats as StatsView,
    runClient: (args, onStart) =>
      new Promise((resolvePromise, reject) => {
        const child = client.spawn(process.execPath, [ENDPOINTS, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
        const out = new JsonLines(child);
        let err = '';
        child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
        onStart?.(child, out);
        child.on('exit', (code) => (code === 0 ? resolvePromise(out.all) : reject(new Error(`client ${args.join(' ')} exited ${code}: ${err}`))));
      }),
  };
}

/** Kills a process started with Netns.spawn (its whole group). */
export function kill(child: ChildProcess): void {
  if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
}
