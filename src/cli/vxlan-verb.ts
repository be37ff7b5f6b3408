/**
 * `ferry vxlan show|add-peer|del-peer|fdb IFNAME …`: a running interface's VXLAN VTEP over
 * the ferry control socket (/run/ferry/IFNAME.sock). A peer added or removed here lasts
 * until the next reload of the config file, which is the truth again (as `wg set` and
 * `wg syncconf`).
 */
import { controlRequest } from '../control/control-client.js';
import type { CliIo } from './wg/cli-io.js';
import { filterAnsi, formatBytes } from './wg/format.js';

export const VXLAN_DESCRIPTION = 'Shows and changes the VXLAN VTEP of a ferry interface';

export function vxlanHelp(prog: string): string {
  return [
    `Usage: ${prog} vxlan show <interface> [--json]`,
    `       ${prog} vxlan add-peer <interface> <remote> <vtep-mac> <subnet>[,<subnet>...]`,
    `       ${prog} vxlan add-peer <interface> <remote> [<mac>]   (Mode = l2: a flood entry, and a static one for <mac>)`,
    `       ${prog} vxlan del-peer <interface> <vtep-mac> | <remote>`,
    `       ${prog} vxlan fdb <interface> [--json]`,
    '',
    `${VXLAN_DESCRIPTION}, through /run/ferry/<interface>.sock.`,
    'fdb lists the forwarding entries as `bridge fdb show` prints a kernel VTEP\'s:',
    'static ones end in "permanent", learned ones do not (--json gives their age).',
    '',
  ].join('\n');
}

interface PeerView {
  remote: string;
  vtepMac: string | null;
  subnets: string[];
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
  txErrors: number;
  /** Drops concerning this VTEP, and by reason. */
  drops?: number;
  dropReasons?: Record<string, number>;
}

interface ShowView {
  mode: string;
  learning?: boolean;
  fdb?: { entries: number; max: number; flood: number };
  vni: number;
  port: number;
  local: string | null;
  boundPort: number;
  vtepMac: string;
  vtepMacDerived: boolean;
  mtu: number;
  addresses: string[];
  peers: PeerView[];
  drops: Record<string, number>;
}

/** wg show's layout: the interface, then one block per peer. */
export function formatShow(ifname: string, v: ShowView): string {
  let out = `interface: ${ifname}\n`;
  out += `  vxlan: vni ${v.vni}, port ${v.port}${v.local !== null ? `, local ${v.local}` : ''}${v.mode === 'l2' ? `, l2${v.learning === true ? ', learning' : ''}` : ''}\n`;
  out += `  vtep mac: ${v.vtepMac}${v.vtepMacDerived ? ' (derived)' : ''}\n`;
  if (v.addresses.length > 0) out += `  addresses: ${v.addresses.join(', ')}\n`;
  if (v.fdb !== undefined) out += `  fdb: ${v.fdb.entries} of ${v.fdb.max} entries, ${v.fdb.flood} flood\n`;
  out += `  mtu: ${v.mtu}\n`;
  const drops = Object.entries(v.drops);
  if (drops.length > 0) out += `  drops: ${drops.map(([k, n]) => `${k} ${n}`).join(', ')}\n`;
  for (const p of v.peers) {
    out += `\npeer: ${p.remote}\n`;
    if (p.vtepMac !== null) out += `  vtep mac: ${p.vtepMac}\n`;
    if (p.subnets.length > 0) out += `  subnets: ${p.subnets.join(', ')}\n`;
    if (p.rxBytes > 0 || p.txBytes > 0) out += `  transfer: ${filterAnsi(formatBytes(BigInt(p.rxBytes)))} received, ${filterAnsi(formatBytes(BigInt(p.txBytes)))} sent\n`;
    if (p.txErrors > 0) out += `  send errors: ${p.txErrors}\n`;
    if ((p.drops ?? 0) > 0) out += `  drops: ${p.drops} (${Object.entries(p.dropReasons ?? {}).map(([k, n]) => `${k} ${n}`).join(', ')})\n`;
  }
  return out;
}

export async function vxlanMain(io: CliIo, args: readonly string[]): Promise<number> {
  const json = args.includes('--json');
  const [sub, ifname, ...rest] = args.filter((a) => a !== '--json');
  const want: Record<string, [number, number]> = { show: [0, 0], fdb: [0, 0], 'add-peer': [1, 3], 'del-peer': [1, 1] };
  if (sub === undefined || !(sub in want) || ifname === undefined || rest.length < want[sub][0] || rest.length > want[sub][1]) {
    io.err(vxlanHelp(io.prog));
    return 1;
  }
  try {
    if (sub === 'show') {
      const v = (await controlRequest(ifname, 'vxlan-show')) as ShowView;
      io.out(json ? `${JSON.stringify(v)}\n` : formatShow(ifname, v));
    } else if (sub === 'fdb') {
      const entries = (await controlRequest(ifname, 'vxlan-fdb')) as Array<{ mac: string; dst: string; port: number; vni: number; state: string }>;
      if (json) io.out(`${JSON.stringify(entries)}\n`);
      else for (const e of entries) io.out(`${e.mac} dev ${ifname} dst ${e.dst} port ${e.port} vni ${e.vni} self${e.state === 'permanent' ? ' permanent' : ''}\n`);
    } else if (sub === 'add-peer') {
      await controlRequest(ifname, 'vxlan-add-peer', { remote: rest[0], vtepMac: rest[1] ?? '', subnets: rest[2] ?? '' });
    } else {
      await controlRequest(ifname, 'vxlan-del-peer', { peer: rest[0] });
    }
    return 0;
  } catch (err) {
    const e = err as Error & { code?: string };
    const why = e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? 'no ferry daemon answers for it' : e.message;
    io.err(`Unable to ${sub} on interface ${ifname}: ${why}\n`);
    return 1;
  }
}
