/**
 * DNS = … through resolvconf, as wg-quick does (set_dns / unset_dns): the servers and
 * search domains go to `resolvconf -a IF -m 0 -x` (metric 0, exclusive: the tunnel's
 * servers are used alone while it is up) and are removed with `resolvconf -d IF -f`.
 * Debian's resolvconf orders interfaces by name patterns: wg-quick then prefixes the
 * name with the first pattern of /etc/resolvconf/interface-order ending in `*` ("tun.").
 * Without resolvconf the command fails and `up` is undone, as with wg-quick: a tunnel
 * that silently kept using the local DNS servers would leak the queries.
 */
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Session } from './session.js';

const INTERFACE_ORDER = '/etc/resolvconf/interface-order';

/** The prefix from interface-order's lines ("tun*" → "tun."); '' when none applies. */
export function interfacePrefix(interfaceOrder: string | null): string {
  if (interfaceOrder === null) return '';
  for (const line of interfaceOrder.split('\n')) {
    const m = /^([A-Za-z0-9-]+)\*$/.exec(line.trim());
    if (m !== null) return `${m[1]}.`;
  }
  return '';
}

/** What set_dns writes to resolvconf's stdin. */
export function resolvconfInput(servers: readonly string[], search: readonly string[]): string {
  let text = servers.map((s) => `nameserver ${s}\n`).join('');
  if (search.length > 0) text += `search ${search.join(' ')}\n`;
  return text;
}

/** wg-quick applies the prefix only for Debian's resolvconf (a real file, not openresolv's or systemd's link). */
function resolvconfName(s: Session): string {
  if (!existsSync(INTERFACE_ORDER)) return s.ifname;
  const path = (s.env.PATH ?? '').split(':').map((dir) => join(dir || '.', 'resolvconf')).find((p) => existsSync(p));
  if (path !== undefined && lstatSync(path).isSymbolicLink()) return s.ifname;
  return `${interfacePrefix(readFileSync(INTERFACE_ORDER, 'utf8'))}${s.ifname}`;
}

export async function setDns(s: Session): Promise<void> {
  const i = s.config.interface;
  if (i.dns.length === 0) return;
  await s.cmd(['resolvconf', '-a', resolvconfName(s), '-m', '0', '-x'], { input: resolvconfInput(i.dns, i.dnsSearch) });
  s.haveSetDns = true;
}

export async function unsetDns(s: Session): Promise<void> {
  if (s.config.interface.dns.length === 0) return;
  await s.cmd(['resolvconf', '-d', resolvconfName(s), '-f']);
}

/** The servers and search domains resolvconf holds for the interface (save_config's `resolvconf -l`, or Debian's run file). */
export async function liveDns(s: Session): Promise<{ servers: string[]; search: string[] }> {
  const name = resolvconfName(s);
  let text = '';
  const listed = s.host.has('resolvconf') ? await s.query(['resolvconf', '-l', name]) : null;
  if (listed !== null && listed.status === 0) text = listed.stdout;
  else {
    try {
      text = readFileSync(`/etc/resolvconf/run/interface/${name}`, 'utf8');
    } catch {
      text = '';
    }
  }
  return parseResolvconf(text);
}

/** nameserver lines as wg-quick reads them; ferry also keeps the search line (wg-quick drops it). */
export function parseResolvconf(text: string): { servers: string[]; search: string[] } {
  const servers: string[] = [];
  const search: string[] = [];
  for (const line of text.split('\n')) {
    const ns = /^nameserver ([a-zA-Z0-9_=+:%.-]+)$/.exec(line);
    if (ns !== null) servers.push(ns[1]);
    const sd = /^search (.+)$/.exec(line);
    if (sd !== null) search.push(...sd[1].split(/\s+/).filter((w) => w !== ''));
  }
  return { servers, search };
}
