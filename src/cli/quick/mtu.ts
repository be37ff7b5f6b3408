/**
 * wg-quick's MTU rule (set_mtu_up): with MTU set, use it; otherwise take the smallest MTU
 * on the way to any peer endpoint (`ip route get ADDR` shows an `mtu` or a `dev` whose
 * `ip link show` has one), else that of the default route, else 1500, and subtract 80,
 * the overhead of WireGuard over IPv6 (40 IPv6 + 8 UDP + 32 WireGuard header and tag).
 * Current wireguard-tools takes the smallest; 1.0.20210914 took the largest.
 *
 * With [FerryVxlan] the same rule runs over the VXLAN peers' addresses with VXLAN's
 * overhead (50 over IPv4, 70 over IPv6, as Linux sizes a vxlan device), and the interface
 * gets the smaller of the two when it also runs WireGuard (a private key); a VXLAN-only
 * interface gets VXLAN's.
 */
import { vxlanUnderlay } from '../../config/vxlan-settings.js';
import { formatWgEndpoint } from '../../uapi/endpoint.js';
import type { Session } from './session.js';

const WG_OVERHEAD = 80;
const FALLBACK_LINK_MTU = 1500;
const NONE = 2147483647;

/** The host part of an endpoint as wg-quick matches it; a scoped IPv6 endpoint does not match. */
export function endpointHost(endpoint: string): string | null {
  const m = /^\[?([a-z0-9:.]+)\]?:[0-9]+$/.exec(endpoint);
  return m === null ? null : m[1];
}

/** `mtu N` in a route line, or the MTU of its `dev` as `ip link show` gives it; null when neither. */
export async function routeMtu(output: string, linkShow: (dev: string) => Promise<string>): Promise<number | null> {
  const direct = /mtu ([0-9]+)/.exec(output);
  if (direct !== null) return Number(direct[1]);
  const dev = /dev ([^ \n]+)/.exec(output);
  if (dev === null) return null;
  const link = /mtu ([0-9]+)/.exec(await linkShow(dev[1]));
  return link === null ? null : Number(link[1]);
}

/** The tunnel MTU from the link MTUs found for the endpoints, and the default route's. */
export async function tunnelMtu(endpointMtus: readonly (number | null)[], defaultRouteMtu: () => Promise<number | null>): Promise<number> {
  let mtu = NONE;
  for (const m of endpointMtus) if (m !== null && m < mtu) mtu = m;
  if (mtu === NONE) {
    const d = await defaultRouteMtu();
    if (d !== null && d < mtu) mtu = d;
  }
  if (!(mtu > 0 && mtu < NONE)) mtu = FALLBACK_LINK_MTU;
  return mtu - WG_OVERHEAD;
}

/**
 * The VXLAN underlay's inner MTU: the smallest (path MTU - overhead) over the peers, the
 * default route's (else 1500) minus the fallback overhead when no peer gives a path.
 */
export async function vxlanTunnelMtu(peerMtus: ReadonlyArray<{ mtu: number | null; overhead: number }>, fallbackOverhead: number, defaultRouteMtu: () => Promise<number | null>): Promise<number> {
  let mtu = NONE;
  for (const p of peerMtus) if (p.mtu !== null && p.mtu > 0 && p.mtu - p.overhead < mtu) mtu = p.mtu - p.overhead;
  if (mtu !== NONE) return mtu;
  const d = await defaultRouteMtu();
  return (d !== null && d > 0 ? d : FALLBACK_LINK_MTU) - fallbackOverhead;
}

/** set_mtu_up: the configured or computed MTU, and the interface up. */
export async function setMtuUp(s: Session): Promise<void> {
  const configured = s.config.interface.mtu;
  if (configured !== null) {
    await s.cmd(['ip', 'link', 'set', 'mtu', String(configured), 'up', 'dev', s.ifname]);
    return;
  }
  const linkShow = async (dev: string) => (await s.query(['ip', 'link', 'show', 'dev', dev])).stdout;
  const defaultRoute = async () => {
    const first = (await s.query(['ip', 'route', 'show', 'default'])).stdout.split('\n')[0];
    return routeMtu(first, linkShow);
  };
  const vxlan = vxlanUnderlay(s.config);
  let mtu = NONE;
  if (vxlan === null || s.config.interface.privateKey !== null) {
    const state = await s.state();
    const found: (number | null)[] = [];
    for (const peer of state.peers) {
      const host = peer.endpoint === undefined ? null : endpointHost(formatWgEndpoint(peer.endpoint));
      if (host === null) continue;
      found.push(await routeMtu((await s.query(['ip', 'route', 'get', host])).stdout, linkShow));
    }
    mtu = await tunnelMtu(found, defaultRoute);
  }
  if (vxlan !== null) {
    const found: Array<{ mtu: number | null; overhead: number }> = [];
    for (const p of vxlan.peers) found.push({ mtu: await routeMtu((await s.query(['ip', 'route', 'get', p.address])).stdout, linkShow), overhead: p.overhead });
    mtu = Math.min(mtu, await vxlanTunnelMtu(found, vxlan.fallbackOverhead, defaultRoute));
  }
  await s.cmd(['ip', 'link', 'set', 'mtu', String(mtu), 'up', 'dev', s.ifname]);
}
