/**
 * VXLAN numbers ferry shares with Linux and flannel, in one place.
 */

/** flannel's VNI, and what Linux's vxlan device is usually given. */
export const DEFAULT_VNI = 1;
/** The port Linux and flannel use (the kernel's historical default; IANA's, RFC 7348, is 4789). */
const LINUX_VXLAN_PORT = 8472;
export const DEFAULT_PORT = LINUX_VXLAN_PORT;

/** Inner Ethernet header plus VXLAN header: what encapsulation writes in front of an inner packet. */
export const VXLAN_INNER_OVERHEAD = 14 + 8;
/** Outer IPv4 + UDP + VXLAN + inner Ethernet: inner MTU = underlay MTU - 50 (Linux's VXLAN_HEADROOM). */
export const VXLAN_OVERHEAD_IPV4 = 20 + 8 + VXLAN_INNER_OVERHEAD;
/** Outer IPv6 + UDP + VXLAN + inner Ethernet: inner MTU = underlay MTU - 70 (VXLAN6_HEADROOM). */
export const VXLAN_OVERHEAD_IPV6 = 40 + 8 + VXLAN_INNER_OVERHEAD;

/** How long a learned FDB entry lives without traffic from its MAC (Linux: ageing 300 s). */
export const FDB_AGEING_MS = 300_000;
/** Default bound on FDB entries (learned and static together). */
export const DEFAULT_FDB_MAX = 4096;
/** Bound on peers of one VXLAN interface (each holds a few small arrays). */
export const MAX_PEERS = 65536;

/** The inner MTU for an underlay MTU: -50 over IPv4, -70 over IPv6. */
export function vxlanInnerMtu(underlayMtu: number, underlayFamily: 4 | 6): number {
  return underlayMtu - (underlayFamily === 6 ? VXLAN_OVERHEAD_IPV6 : VXLAN_OVERHEAD_IPV4);
}
