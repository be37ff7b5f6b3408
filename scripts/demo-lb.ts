/**
 * The demo's load-balancer part (steps 7 and 8 of scripts/demo.ts): `ferry up` in
 * namespace A with a config file holding one service over three backends, each backend
 * a namespace running a server that answers with its name; N connections from A to the
 * VIP; how they spread, what `ferry service show` and `ferry conntrack` say. The caller
 * removes the namespaces (LB_NAMESPACES) and, with namespace A, the interface.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { formatService } from '../src/cli/service-verb.js';
import { controlRequest } from '../src/control/control-client.js';
import type { ConntrackListing } from '../src/lb/conntrack-list.js';
import type { ServiceView } from '../src/lb/service-view.js';

const REPO = resolve(import.meta.dirname, '..');
const ENDPOINTS = join(REPO, 'test/netns/helpers/lb-endpoints.mjs');
const CONNECTIONS = 300;

export function lbNames(tag: string): { namespaces: string[]; ifname: string } {
  return { namespaces: [1, 2, 3].map((n) => `ferry-demo-b${n}-${tag}`), ifname: `fdemo${tag}l`.slice(0, 15) };
}

function inNs(ns: string, cmd: string, args: string[]): string {
  return execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs lb-endpoints.mjs in ns; resolves with its first JSON line (the process stays, as a server does). */
function endpoints(ns: string, args: string[], children: ChildProcess[]): Promise<Record<string, unknown>> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, ENDPOINTS, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    let text = '';
    child.stdout.on('data', (d: Buffer) => {
      text += d.toString();
      const nl = text.indexOf('\n');
      if (nl >= 0) resolvePromise(JSON.parse(text.slice(0, nl)) as Record<string, unknown>);
    });
    child.on('exit', (code) => (code ? reject(new Error(`${args[0]} exited with ${code}`)) : undefined));
  });
}

/** Returns true when every connection was answered and all three backends got some. */
export async function lbPart(o: { nsA: string; tag: string; confDir: string; say(s: string): void; bold(s: string): string; children: ChildProcess[] }): Promise<boolean> {
  const { namespaces, ifname } = lbNames(o.tag);
  const { say, bold } = o;
  say(bold('7. A load-balanced service: ferry up with [FerryLb], three backends in their own namespaces'));
  namespaces.forEach((ns, i) => {
    const n = i + 1;
    execFileSync('ip', ['netns', 'add', ns]);
    const [host, backend] = [`fdemo${o.tag}h${n}`.slice(0, 15), `fdemo${o.tag}k${n}`.slice(0, 15)];
    // Made inside the namespaces, so deleting them removes the pair.
    execFileSync('ip', ['-n', o.nsA, 'link', 'add', host, 'type', 'veth', 'peer', 'name', backend, 'netns', ns]);
    inNs(o.nsA, 'ip', ['addr', 'add', `10.0.${n}.1/24`, 'dev', host]);
    inNs(o.nsA, 'ip', ['link', 'set', host, 'up']);
    inNs(ns, 'ip', ['addr', 'add', `10.0.${n}.2/24`, 'dev', backend]);
    inNs(ns, 'ip', ['link', 'set', backend, 'up']);
    inNs(ns, 'ip', ['link', 'set', 'lo', 'up']);
    inNs(ns, 'ip', ['route', 'add', 'default', 'via', `10.0.${n}.1`]);
  });
  await Promise.all(namespaces.map((ns, i) => endpoints(ns, ['server', `b${i + 1}`, '8080'], o.children)));
  const text = [
    '[Interface]',
    'Address = 10.96.255.253/32',
    '',
    '[FerryLb]',
    'ServiceRange = 10.96.0.0/16',
    'SnatAddress = 10.96.255.254',
    '',
    '[FerryService]',
    'Name = web',
    'Address = 10.96.0.10:80',
    'Backend = 10.0.1.2:8080',
    'Backend = 10.0.2.2:8080 weight=2',
    'Backend = 10.0.3.2:8080',
    'HealthCheck = tcp',
  ].join('\n');
  const conf = join(o.confDir, `${ifname}.conf`);
  writeFileSync(conf, `${text}\n`, { mode: 0o600 });
  say(`   ${namespaces.join(', ')}: a server on 10.0.N.2:8080 that answers with its name (b1, b2, b3)`);
  say(`   ${o.nsA}: ferry up ${ifname} with this config:`);
  for (const l of text.split('\n')) say(`     ${l}`.trimEnd());
  const env = { ...process.env };
  delete env.LOG_LEVEL;
  execFileSync('ip', ['netns', 'exec', o.nsA, process.execPath, '--import', 'tsx', join(REPO, 'src/cli/ferry.ts'), 'up', conf], { cwd: REPO, env, stdio: 'ignore' });
  const routes = inNs(o.nsA, 'ip', ['route', 'show', 'dev', ifname]).trim();
  say(`   ferry up routed the service range into ${ifname} (${routes}) and turned forwarding on (net.ipv4.ip_forward = ${inNs(o.nsA, 'sysctl', ['-n', 'net.ipv4.ip_forward']).trim()})`);

  say(bold(`8. ${CONNECTIONS} connections to 10.96.0.10:80`));
  const r = (await endpoints(o.nsA, ['tcp-conns', '10.96.0.10', '80', String(CONNECTIONS), '20', '30000'], o.children)) as { names: Record<string, number>; errors: Record<string, number> };
  const spread = Object.entries(r.names)
    .sort()
    .map(([name, n]) => `${name} ${n} (${((100 * n) / CONNECTIONS).toFixed(0)}%)`)
    .join(', ');
  say(`   answered by: ${spread}; weights 1:2:1 ask for 25%, 50%, 25%${Object.keys(r.errors).length > 0 ? `; errors ${JSON.stringify(r.errors)}` : ''}`);
  const [web] = (await controlRequest(ifname, 'service-show', { service: 'web' })) as ServiceView[];
  say(`   ferry service show ${ifname} web:`);
  for (const l of formatService(web).trimEnd().split('\n')) say(`     ${l}`.trimEnd());
  const ct = (await controlRequest(ifname, 'conntrack', { limit: 1 })) as ConntrackListing;
  const states = new Map<string, number>();
  const all = (await controlRequest(ifname, 'conntrack', { limit: CONNECTIONS })) as ConntrackListing;
  for (const e of all.entries) states.set(e.state, (states.get(e.state) ?? 0) + 1);
  say(`   ferry conntrack ${ifname}: ${ct.count} entries (${[...states].map(([s, n]) => `${n} ${s}`).join(', ')}), closed connections stay a while, as the kernel keeps them`);
  return Object.keys(r.errors).length === 0 && Object.keys(r.names).length === 3;
}
