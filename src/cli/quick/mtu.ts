/**
 * wg-quick's MTU rule (set_mtu_up): with MTU set, use it; otherwise take the smallest MTU
 * on the way to any peer endpoint (`ip route get ADDR` shows an `mtu` or a `dev` whose
 * `ip link show` has one), else that of the default route, else 1500, and subtract 80,
 * the overhead of WireGuard over IPv6 (40 IPv6 + 8 UDP + 32 WireGuard header and tag).
 * Current wireguard-tools takes the smallest; 1.0.20210914 took the largest.
 */
import type { Session } from './session.js';

export const WG_OVERHEAD = 80;
export const FALLBACK_LINK_MTU = 1500;
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

/** set_mtu_up: the configured or computed MTU, and the interface up. */
export async function setMtuUp(s: Session): Promise<void> {
  const configured = s.config.interface.mtu;
  if (configured !== null) {
    await s.cmd(['ip', 'link', 'set', 'mtu', String(configured), 'up', 'dev', s.ifname]);
    return;
  }
  const linkShow = async (dev: string) => (await s.query(['ip', 'link', 'show', 'dev', dev])).stdout;
  const state = await s.state();
  const found: (number | null)[] = [];
  for (const peer of state.peers) {
    const host = peer.endpoint === null ? null : endpointHost(peer.endpoint);
    if (host === null) continue;
    found.push(await routeMtu((await s.query(['ip', 'route', 'get', host])).stdout, linkShow));
  }
  const mtu = await tunnelMtu(found, async () => {
    const first = (await s.query(['ip', 'route', 'show', 'default'])).stdout.split('\n')[0];
    return routeMtu(first, linkShow);
  });
  await s.cmd(['ip', 'link', 'set', 'mtu', String(mtu), 'up', 'dev', s.ifname]);
}
