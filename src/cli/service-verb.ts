/**
 * `ferry service list|show|add|del|set-backend|drain IFNAME …`: a running interface's
 * load-balanced services over the ferry control socket (/run/ferry/IFNAME.sock). A change
 * made here lasts until the next reload of the config file, which is the truth again (as
 * `wg set` and `wg syncconf`). Arguments are checked by the daemon with the config file's
 * own readers.
 */
import { controlRequest } from '../control/control-client.js';
import type { BackendView, CounterView, ServiceView } from '../lb/service-view.js';
import type { CliIo } from './wg/cli-io.js';
import { filterAnsi, formatBytes } from './wg/format.js';

export const SERVICE_DESCRIPTION = 'Shows and changes the load-balanced services of a ferry interface';

export function serviceHelp(prog: string): string {
  return [
    `Usage: ${prog} service list <interface> [--json]`,
    `       ${prog} service show <interface> [<service>] [--json]`,
    `       ${prog} service add <interface> <service> <vip>:<port> [<Key>=<value>...]`,
    `       ${prog} service del <interface> <service>`,
    `       ${prog} service set-backend <interface> <service> <address>:<port> [weight=<n>] [drain] | remove`,
    `       ${prog} service drain <interface> <service> <address>:<port> [off]`,
    '',
    `${SERVICE_DESCRIPTION}, through /run/ferry/<interface>.sock.`,
    'add takes [FerryService] keys, e.g. Protocol=udp "Backend=10.0.1.2:8080 weight=2" HealthCheck=tcp.',
    'Changes last until the config file is reloaded (ferry reload, SIGHUP).',
    '',
  ].join('\n');
}

const bytes = (n: number) => filterAnsi(formatBytes(BigInt(n)));

function counterLines(c: CounterView, indent: string): string {
  let out = `${indent}connections: ${c.connections}, open flows: ${c.flows}\n`;
  if (c.packetsIn > 0 || c.packetsOut > 0) out += `${indent}transfer: ${bytes(c.bytesIn)} in (${c.packetsIn} packets), ${bytes(c.bytesOut)} out (${c.packetsOut} packets)\n`;
  if (c.refused > 0) out += `${indent}refused by the backend: ${c.refused}\n`;
  const drops = Object.entries(c.drops);
  if (drops.length > 0) out += `${indent}drops: ${drops.map(([k, n]) => `${k} ${n}`).join(', ')}\n`;
  return out;
}

function backendBlock(b: BackendView): string {
  let out = `  backend: ${b.name}\n    state: ${b.state}, weight ${b.weight}\n`;
  if (b.health !== null && b.health.probes > 0) out += `    health checks: ${b.health.probes} run, ${b.health.failures} failed${b.health.lastError !== '' ? ` (last: ${b.health.lastError})` : ''}\n`;
  return out + counterLines(b, '    ');
}

/** wg show's layout: the service, then one block per backend. */
export function formatService(v: ServiceView): string {
  let out = `service: ${v.name}\n  address: ${v.address} ${v.protocol}\n  scheduler: ${v.scheduler}\n`;
  if (v.affinitySeconds > 0) out += `  session affinity: client-ip ${v.affinitySeconds} s\n`;
  out += `  health check: ${v.healthCheck}\n`;
  out += counterLines(v, '  ');
  for (const b of v.backends) out += `\n${backendBlock(b)}`;
  return out;
}

type ListView = Omit<ServiceView, 'backends'> & { backends: number; up: number };

/** One line per service: name, address, protocol, backends up of all, flows, connections. */
function formatList(list: ListView[]): string {
  return list.map((s) => `${s.name}\t${s.address}\t${s.protocol}\t${s.up}/${s.backends} backends up\t${s.flows} flows\t${s.connections} connections\n`).join('');
}

const ARGS: Record<string, [number, number]> = { list: [0, 0], show: [0, 1], add: [2, Infinity], del: [1, 1], 'set-backend': [2, Infinity], drain: [2, 3] };

export async function serviceMain(io: CliIo, args: readonly string[]): Promise<number> {
  const json = args.includes('--json');
  const [sub, ifname, ...rest] = args.filter((a) => a !== '--json');
  const range = sub === undefined ? undefined : ARGS[sub];
  if (range === undefined || ifname === undefined || rest.length < range[0] || rest.length > range[1] || (sub === 'drain' && rest.length === 3 && rest[2] !== 'off')) {
    io.err(serviceHelp(io.prog));
    return 1;
  }
  try {
    let result: unknown;
    if (sub === 'list') result = await controlRequest(ifname, 'service-list');
    else if (sub === 'show') result = await controlRequest(ifname, 'service-show', rest.length === 1 ? { service: rest[0] } : {});
    else if (sub === 'add') result = await controlRequest(ifname, 'service-add', { service: rest[0], address: rest[1], options: rest.slice(2) });
    else if (sub === 'del') result = await controlRequest(ifname, 'service-del', { service: rest[0] });
    else if (sub === 'set-backend') result = await controlRequest(ifname, 'service-set-backend', { service: rest[0], backend: rest[1], options: rest.slice(2) });
    else result = await controlRequest(ifname, 'service-drain', { service: rest[0], backend: rest[1], drain: rest[2] !== 'off' });
    if (json) io.out(`${JSON.stringify(result)}\n`);
    else if (sub === 'list') io.out(formatList(result as ListView[]));
    else if (sub === 'show') io.out((result as ServiceView[]).map(formatService).join('\n'));
    return 0;
  } catch (err) {
    const e = err as Error & { code?: string };
    const why = e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? 'no ferry daemon answers for it' : e.code === 'FERRY_CONTROL_UNKNOWN_OP' ? 'it runs no load balancer ([FerryLb])' : e.message;
    io.err(`Unable to ${sub} on interface ${ifname}: ${why}\n`);
    return 1;
  }
}
