/**
 * Routes for the allowed IPs (wg-quick's add_route, add_default and the rule part of
 * del_if). Each allowed IP gets `ip route add PREFIX dev IF` unless a route through the
 * interface already covers it (an Address's subnet), or `table T` with a Table set, or
 * nothing with Table = off. A /0 makes a full tunnel: the tunnel's packets get a fwmark
 * (the table number, 51820 or the next free one, unless FwMark is set), and policy rules
 * send everything without that mark to table T, whose default route is the tunnel, while
 * `suppress_prefixlength 0` keeps the main table's more specific routes (the LAN) in use.
 */
import { addFirewall, type Proto } from './firewall.js';
import type { Session } from './session.js';
import { formatPrefix } from '../../text/prefix.js';
import { newDevice, type Device } from '../../uapi/model.js';

const DEFAULT_TABLE = 51820;
/** A bound on wg-quick's "while the rule is there, delete it" loops, in case deleting does not take. */
const MAX_RULE_DELETES = 256;

function protoOf(prefix: string): Proto {
  return prefix.includes(':') ? 6 : 4;
}

/** The allowed IPs in the order wg-quick adds their routes: `sort -nr -k 2 -t /` (longest prefix first). */
export function routeOrder(state: Device): string[] {
  const all: string[] = [];
  for (const peer of state.peers) {
    for (const p of peer.allowedIps) {
      const text = formatPrefix(p.prefix);
      if (/^[0-9a-z:.]+\/[0-9]+$/.test(text)) all.push(text);
    }
  }
  const cidr = (s: string) => Number(s.slice(s.indexOf('/') + 1));
  // Ties: sort(1)'s last resort compares whole lines, reversed by -r as well.
  return all.sort((a, b) => cidr(b) - cidr(a) || (a < b ? 1 : a > b ? -1 : 0));
}

/** True when Table is unset or auto: the main table and, for /0, the fwmark scheme. */
export function usesMainTable(table: string | null): boolean {
  return table === null || table === 'auto';
}

export async function addRoute(s: Session, prefix: string): Promise<void> {
  const proto = protoOf(prefix);
  const table = s.config.interface.table;
  if (table === 'off') return;
  if (!usesMainTable(table)) {
    await s.cmd(['ip', `-${proto}`, 'route', 'add', prefix, 'dev', s.ifname, 'table', table as string]);
  } else if (prefix.endsWith('/0')) {
    await addDefault(s, prefix);
  } else {
    const covered = await s.query(['ip', `-${proto}`, 'route', 'show', 'dev', s.ifname, 'match', prefix]);
    if (covered.stdout.trim() === '') await s.cmd(['ip', `-${proto}`, 'route', 'add', prefix, 'dev', s.ifname]);
  }
}

/** The table of a full tunnel: the device's fwmark when set (get_fwmark), else null. */
async function currentFwmark(s: Session): Promise<number | null> {
  try {
    const { fwmark } = await s.device.get(s.ifname);
    return fwmark ? fwmark : null;
  } catch {
    return null;
  }
}

async function tableInUse(s: Session, table: number): Promise<boolean> {
  for (const proto of ['-4', '-6']) {
    if ((await s.query(['ip', proto, 'route', 'show', 'table', String(table)])).stdout.trim() !== '') return true;
  }
  return false;
}

async function addDefault(s: Session, prefix: string): Promise<void> {
  let table = await currentFwmark(s);
  if (table === null) {
    table = DEFAULT_TABLE;
    while (await tableInUse(s, table)) table++;
    const mark = table;
    await s.wg(`wg set ${s.ifname} fwmark ${mark}`, () => s.device.set(s.ifname, { ...newDevice(), fwmark: mark }));
  }
  const proto = protoOf(prefix);
  await s.cmd(['ip', `-${proto}`, 'rule', 'add', 'not', 'fwmark', String(table), 'table', String(table)]);
  await s.cmd(['ip', `-${proto}`, 'rule', 'add', 'table', 'main', 'suppress_prefixlength', '0']);
  await s.cmd(['ip', `-${proto}`, 'route', 'add', prefix, 'dev', s.ifname, 'table', String(table)]);
  await addFirewall(s, table, proto);
}

function hasDefaultRoute(state: Device): boolean {
  return state.peers.some((p) => p.allowedIps.some((a) => a.prefix.cidr === 0));
}

/** del_if's first half: the full tunnel's rules, while `ip rule show` still lists them. */
export async function deleteDefaultRules(s: Session): Promise<void> {
  if (!usesMainTable(s.config.interface.table)) return;
  let state: Device;
  try {
    state = await s.device.get(s.ifname);
  } catch {
    return;
  }
  if (!state.fwmark || !hasDefaultRoute(state)) return;
  await deleteTableRules(s, state.fwmark);
}

/** Deletes the two policy rules of a full tunnel using `table`, in both families, while `ip rule show` lists them. */
export async function deleteTableRules(s: Session, table: number): Promise<void> {
  for (const proto of ['-4', '-6']) {
    const loops: [string, string[]][] = [
      [`lookup ${table}`, ['ip', proto, 'rule', 'delete', 'table', String(table)]],
      ['from all lookup main suppress_prefixlength 0', ['ip', proto, 'rule', 'delete', 'table', 'main', 'suppress_prefixlength', '0']],
    ];
    for (const [needle, del] of loops) {
      for (let i = 0; i < MAX_RULE_DELETES; i++) {
        const rules = await s.query(['ip', proto, 'rule', 'show']);
        if (!rules.stdout.includes(needle)) break;
        await s.cmd(del);
      }
    }
  }
}
