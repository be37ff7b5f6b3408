/**
 * The firewall rules wg-quick adds with a full tunnel (add_default) and removes at down
 * (remove_firewall), kept identical — table names, chains and comment marker — so that
 * `wg-quick down` cleans up after `ferry up` and the other way round:
 * - drop packets for the interface's own addresses arriving on another interface
 *   (nothing outside may reach the tunnel address from the LAN);
 * - copy the fwmark of the tunnel's UDP packets to conntrack and back, so replies to the
 *   marked socket also skip the tunnel's routing table (rp_filter with src_valid_mark).
 * nft when present, else iptables-restore.
 */
import type { Session } from './session.js';

export type Proto = 4 | 6;

/** The addresses in `ip -o -4|-6 addr show dev IF` lines, as wg-quick's regex takes them. */
export function interfaceAddresses(ipOutput: string): string[] {
  const out: string[] = [];
  for (const line of ipOutput.split('\n')) {
    const m = /.*inet6? ([0-9a-f:.]+)\/[0-9]+.*/.exec(line);
    if (m !== null) out.push(m[1]);
  }
  return out;
}

export function commentMarker(ifname: string): string {
  return `-m comment --comment "wg-quick(8) rule for ${ifname}"`;
}

/** The nft script and the iptables-restore input add_default builds for one family. */
export function firewallScripts(ifname: string, table: number, proto: Proto, addresses: readonly string[]): { nft: string; restore: string } {
  const pf = proto === 6 ? 'ip6' : 'ip';
  const nftable = `wg-quick-${ifname}`;
  const marker = commentMarker(ifname);
  let restore = '*raw\n';
  let nft = `add table ${pf} ${nftable}\n`;
  nft += `add chain ${pf} ${nftable} preraw { type filter hook prerouting priority -300; }\n`;
  nft += `add chain ${pf} ${nftable} premangle { type filter hook prerouting priority -150; }\n`;
  nft += `add chain ${pf} ${nftable} postmangle { type filter hook postrouting priority -150; }\n`;
  for (const a of addresses) {
    restore += `-I PREROUTING ! -i ${ifname} -d ${a} -m addrtype ! --src-type LOCAL -j DROP ${marker}\n`;
    nft += `add rule ${pf} ${nftable} preraw iifname != "${ifname}" ${pf} daddr ${a} fib saddr type != local drop\n`;
  }
  restore += `COMMIT\n*mangle\n-I POSTROUTING -m mark --mark ${table} -p udp -j CONNMARK --save-mark ${marker}\n-I PREROUTING -p udp -j CONNMARK --restore-mark ${marker}\nCOMMIT\n`;
  nft += `add rule ${pf} ${nftable} postmangle meta l4proto udp mark ${table} ct mark set mark \n`;
  nft += `add rule ${pf} ${nftable} premangle meta l4proto udp meta mark set ct mark \n`;
  return { nft, restore };
}

/** What remove_firewall feeds to nft: a delete for each of the interface's tables in `nft list tables`. */
export function nftDeleteScript(ifname: string, listTables: string): string {
  let script = '';
  for (const line of listTables.split('\n')) if (line.endsWith(` wg-quick-${ifname}`)) script += `delete ${line}\n`;
  return script;
}

/** What remove_firewall feeds to iptables-restore: the marked rules of an iptables-save, as deletions; null when none. */
export function iptablesDeleteScript(ifname: string, save: string): string | null {
  const marked = `-m comment --comment "wg-quick(8) rule for ${ifname}"`;
  let restore = '';
  let found = false;
  for (const line of save.split('\n')) {
    const rule = line.startsWith('-A ') && line.slice(3).includes(marked);
    if (!(line.startsWith('*') || line === 'COMMIT' || rule)) continue;
    if (line.startsWith('-A')) found = true;
    restore += `${line.replace(/^-A/, '-D')}\n`;
  }
  return found ? restore : null;
}

/** Runs `nft -f <(script)` through bash, so the command and its trace are wg-quick's own. */
function nftFile(s: Session, script: string): Promise<void> {
  return s.cmd(['bash', '-c', 'nft -f <(printf %s "$1")', 'bash', script], { display: 'nft -f /dev/fd/63' });
}

/** The firewall half of add_default (after the routes and rules). */
export async function addFirewall(s: Session, table: number, proto: Proto): Promise<void> {
  const listing = await s.query(['ip', '-o', `-${proto}`, 'addr', 'show', 'dev', s.ifname]);
  const scripts = firewallScripts(s.ifname, table, proto, interfaceAddresses(listing.stdout));
  if (proto === 4) {
    const current = await s.query(['sysctl', '-n', 'net.ipv4.conf.all.src_valid_mark']);
    if (current.stdout.trim() !== '1') await s.cmd(['sysctl', '-q', 'net.ipv4.conf.all.src_valid_mark=1']);
  }
  const iptables = proto === 6 ? 'ip6tables' : 'iptables';
  if (s.host.has('nft')) await nftFile(s, scripts.nft);
  else if (s.host.has(`${iptables}-restore`)) await s.cmd([`${iptables}-restore`, '-n'], { input: scripts.restore });
  else {
    // wg-quick would fail here; ferry keeps the tunnel and says what is missing.
    s.io.stderr.write(`[!] Neither nft nor ${iptables}-restore is installed: not adding the firewall rules of the full tunnel.\n`);
    return;
  }
  s.haveSetFirewall = true;
}

export async function removeFirewall(s: Session): Promise<void> {
  if (s.host.has('nft')) {
    const script = nftDeleteScript(s.ifname, (await s.query(['nft', 'list', 'tables'])).stdout);
    if (script !== '') await nftFile(s, script);
  }
  if (s.host.has('iptables')) {
    for (const iptables of ['iptables', 'ip6tables']) {
      const restore = iptablesDeleteScript(s.ifname, (await s.query([`${iptables}-save`])).stdout);
      if (restore !== null) await s.cmd([`${iptables}-restore`, '-n'], { input: restore });
    }
  }
}
