/**
 * The load balancer's backends reached through the host: ferry sends the translated
 * packet back out the interface, and the host forwards it to the backend, so the host
 * must forward (net.ipv4.ip_forward, net.ipv6.conf.all.forwarding). `ferry up` turns it on
 * for each family that needs it — a backend of the file that no [Peer]'s AllowedIPs hold,
 * or a SnatAddress of that family (which exists for such backends, also ones added later
 * with `ferry service add`) — and prints the command, as wg-quick does for
 * src_valid_mark. Like wg-quick, `ferry down` leaves it on: other interfaces, or what
 * the host had before, may need it.
 */
import { contains } from '../../config/lb-sections.js';
import { lbSettingsFromConfig } from '../../config/lb-settings.js';
import type { Session } from './session.js';

const KEYS = { 4: 'net.ipv4.ip_forward', 6: 'net.ipv6.conf.all.forwarding' } as const;

/** The families whose backends the host forwards to, for a config (none without [FerryLb]). */
export function forwardedFamilies(config: Session['config']): Array<4 | 6> {
  const lb = lbSettingsFromConfig(config);
  if (lb === null) return [];
  const byPeer = (family: 4 | 6, bytes: Uint8Array) => config.peers.some((p) => p.allowedIps.some((a) => contains(a, { family, bytes })));
  const need = new Set<4 | 6>();
  if (lb.snatV4 !== null) need.add(4);
  if (lb.snatV6 !== null) need.add(6);
  for (const s of lb.services) for (const b of s.backends) if (!byPeer(b.family, b.address)) need.add(b.family);
  return [...need].sort();
}

export async function enableLbForwarding(s: Session): Promise<void> {
  for (const family of forwardedFamilies(s.config)) {
    const key = KEYS[family];
    const current = await s.query(['sysctl', '-n', key]);
    if (current.stdout.trim() !== '1') await s.cmd(['sysctl', '-q', `${key}=1`]);
  }
}
