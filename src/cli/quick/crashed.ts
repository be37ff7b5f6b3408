/**
 * `ferry down` after ferryd died without cleaning up (kill -9, the OOM killer, a crash).
 * Its TUN went with the process, and with the TUN its addresses and every route through
 * it. What `ferry up` set outside the interface stays: the full tunnel's policy rules,
 * its firewall table, the DNS entry, and the dead process's UAPI and control sockets.
 * The full tunnel's routing table was the daemon's fwmark, gone with it: it is read back
 * from the firewall rules `up` added with the policy rules (they match that mark), or
 * from FwMark in the config. Every step is tried; the first failure is the exit status.
 */
import { unsetDns } from './dns.js';
import { removeFirewall } from './firewall.js';
import { executeHooks } from './hooks.js';
import { QuickExit } from './io.js';
import { deleteTableRules, usesMainTable } from './routes.js';
import type { Session } from './session.js';

/** The mark (= table) in the firewall rules `up` adds for a full tunnel: nft's `mark 0x0000ca6c ct mark set` or iptables' `--mark 0xca6c`. */
export function markInFirewall(listing: string): number | null {
  const m = /(?:\bmark|--mark) (0x[0-9a-f]+|\d+)\b/.exec(listing);
  return m === null ? null : Number(m[1]);
}

/** The full tunnel's table: from the firewall rules left behind, else the config's FwMark; null when neither says. */
async function leftoverTable(s: Session): Promise<number | null> {
  if (s.host.has('nft')) {
    for (const family of ['ip', 'ip6']) {
      const r = await s.query(['nft', 'list', 'table', family, `wg-quick-${s.ifname}`]);
      const mark = r.status === 0 ? markInFirewall(r.stdout) : null;
      if (mark !== null) return mark;
    }
  }
  for (const iptables of ['iptables', 'ip6tables']) {
    if (!s.host.has(`${iptables}-save`)) continue;
    const marked = (await s.query([`${iptables}-save`])).stdout.split('\n').filter((l) => l.includes(`wg-quick(8) rule for ${s.ifname}"`));
    const mark = markInFirewall(marked.join('\n'));
    if (mark !== null) return mark;
  }
  return s.config.interface.fwmark;
}

function hasDefaultRoute(s: Session): boolean {
  return s.config.peers.some((p) => p.allowedIps.some((a) => a.cidr === 0));
}

export async function cmdDownAfterCrash(s: Session): Promise<void> {
  s.io.stderr.write(`ferry: ferryd of \`${s.ifname}' is not running: it died without cleaning up. Removing what \`ferry up' left behind.\n`);
  let failure: QuickExit | null = null;
  const attempt = async (step: () => Promise<void>): Promise<void> => {
    try {
      await step();
    } catch (err) {
      if (!(err instanceof QuickExit)) throw err;
      failure ??= err;
    }
  };
  await attempt(() => executeHooks(s, s.config.interface.preDown));
  // Looked at again after the hooks, before anything is removed: a ferryd started since
  // (a service manager's restart) is not ours to take down.
  if ((await s.device.daemonState(s.ifname)) === 'live') {
    s.io.stderr.write(`ferry: a ferryd of \`${s.ifname}' is running again; leaving its interface, rules and sockets alone.\n`);
    throw new QuickExit(1);
  }
  if (s.config.interface.saveConfig) s.io.stderr.write('[!] SaveConfig: the running configuration died with ferryd; the file is left as it was.\n');
  if (usesMainTable(s.config.interface.table) && hasDefaultRoute(s)) {
    const table = await leftoverTable(s);
    if (table !== null) await attempt(() => deleteTableRules(s, table));
    else s.io.stderr.write('[!] The full tunnel\'s routing table is unknown (no firewall rules and no FwMark): check `ip rule show` for its rules.\n');
  }
  if ((await s.query(['ip', 'link', 'show', 'dev', s.ifname])).stdout.trim() !== '') await attempt(() => s.cmd(['ip', 'link', 'delete', 'dev', s.ifname]));
  await attempt(() => unsetDns(s));
  await attempt(() => removeFirewall(s));
  try {
    for (const path of await s.device.removeStaleSockets(s.ifname)) s.trace(`rm -f ${path}`);
  } catch (err) {
    s.io.stderr.write(`ferry: could not remove the dead daemon's sockets: ${(err as Error).message}\n`);
    failure ??= new QuickExit(1);
  }
  await attempt(() => executeHooks(s, s.config.interface.postDown));
  if (failure !== null) throw failure;
}
