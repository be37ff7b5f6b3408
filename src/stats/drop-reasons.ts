/**
 * Every packet ferry does not deliver is counted under one reason. Reasons are small
 * integers so the hot path increments a Float64Array slot, never a Map or a string.
 * Append new reasons at the end; numbers are part of the control socket's output.
 */
export const DropReason = {
  None: 0,
  // packet codecs
  Truncated: 1,
  BadVersion: 2,
  BadHeaderLength: 3,
  BadTotalLength: 4,
  BadChecksum: 5,
  Fragment: 6,
  UnsupportedProtocol: 7,
  // buffer pool / io
  PoolExhausted: 8,
  TooBig: 9,
  TunWriteFailed: 10,
  UdpSendFailed: 11,
  // wireguard
  WgUnknownMessageType: 12,
  WgBadMessageLength: 13,
  WgBadMac1: 14,
  WgBadMac2: 15,
  WgRateLimited: 16,
  WgHandshakeQueueFull: 17,
  WgHandshakeFailed: 18,
  WgReplayedTimestamp: 19,
  WgUnknownIndex: 20,
  WgDecryptFailed: 21,
  WgReplayed: 22,
  WgKeyExpired: 23,
  WgSourceNotAllowed: 24,
  WgNoRoute: 25,
  WgNoEndpoint: 26,
  WgStagedQueueFull: 27,
  WgCookieInvalid: 28,
  /** Retired: split into wg_staged_gave_up and wg_device_down (numbers are never reused). */
  WgNoKeypair: 29,
  // vxlan
  VxlanBadHeader: 30,
  VxlanUnknownVni: 31,
  /** L2: a frame for a MAC no FDB entry names, and no all-zero (flood) entry to send it to (the kernel: no remote). */
  VxlanNoFdbEntry: 32,
  // load balancer
  LbNoBackend: 33,
  LbConntrackFull: 34,
  // datapath
  /** No route for the destination of a packet read from the TUN. */
  NoRoute: 35,
  /** The underlay socket stayed full (EAGAIN) while its out batch was full too. */
  UdpSendBlocked: 36,
  // load balancer (translation stage)
  /** A packet to an address of ServiceRange on a port/protocol no service has (answered: RST / port unreachable). */
  LbNoService: 37,
  /** A packet of a flow the connection table does not hold (TCP without SYN, a reply to the SNAT address). */
  LbNoConnection: 38,
  /** A TCP segment whose flags no connection can carry (SYN+FIN, SYN+RST, no flags, FIN without ACK…). */
  LbBadTcpFlags: 39,
  /** No free SNAT port toward that backend within the bounded retries. */
  LbSnatPortsExhausted: 40,
  /** A packet of a TCP flow whose backend failed (answered with a RST), or a UDP backend's port unreachable taken as its failure. */
  LbBackendFailed: 41,
  /** An ICMP error quoting a flow that the connection table does not hold. */
  LbIcmpUnknownFlow: 42,
  // vxlan (continued)
  /** A VXLAN header with a reserved bit set (the kernel drops these too, unlike RFC 7348's "ignore"). */
  VxlanReservedBits: 43,
  /** An inner frame whose source MAC is our own VTEP's: it came back around a loop. */
  VxlanLoop: 44,
  /** An inner frame to a unicast MAC that is not ours (L3 mode accepts ours, broadcast, multicast). */
  VxlanNotForUs: 45,
  /** An ARP or neighbour solicitation for an address that is not ours, or an ARP/ND message we do not answer. */
  VxlanNeighborIgnored: 46,
  /** An inner packet the route table sent to the plane without room in front for the VXLAN and Ethernet headers. */
  VxlanNoHeadroom: 47,
  /** L2: the FDB is full and a new source MAC could not be learned (the frame is still delivered). */
  VxlanFdbFull: 48,
  /** RFC 6040: the outer header says CE but the inner packet is not ECN-capable. */
  VxlanEcnNotEct: 49,
  /** An inner frame whose EtherType the VTEP does not carry (L3: IPv4, IPv6 and ARP only; VLAN tags). */
  VxlanUnsupportedEtherType: 50,
  /** L2: a frame whose source MAC is a static FDB entry arrived from another VTEP (the kernel drops these too). */
  VxlanStaticMacMoved: 51,
  // datapath (continued)
  /** An IP packet a plane delivered (WireGuard) on an interface that is a TAP, which carries Ethernet frames only. */
  TapIpPacket: 52,
  // vxlan (continued)
  /** L2: an inner frame whose source MAC is multicast or all-zero (the kernel drops these: not a valid station). */
  VxlanBadSourceMac: 53,
  // finer reasons where one name used to cover two causes
  /** A handshake message under load without a valid mac2: answered with a cookie reply, no Diffie-Hellman done (not an attack signature by itself). */
  WgCookieRequired: 54,
  /** Packets staged for a peer while its handshake ran, dropped when it gave up (90 s) or its keys were zeroed. */
  WgStagedGaveUp: 55,
  /** A packet routed to WireGuard while the interface is down. */
  WgDeviceDown: 56,
  /** An IPv6 packet with more extension headers than ferry walks (bounded, so a chain cannot cost unbounded time). */
  Ipv6TooManyExtensionHeaders: 57,
  /** Under load, a handshake message without a valid mac2 whose cookie reply the per-source or total cookie-reply limit suppressed (ferry is not a reflector). */
  WgCookieReplyLimited: 58,
  // io (TUN offloads)
  /** A packet read from a TUN with offloads that does not split (bad virtio header, lengths or headers; more segments than a batch holds). */
  TunOffloadBadPacket: 59,
} as const;

export type DropReasonValue = (typeof DropReason)[keyof typeof DropReason];

const names: string[] = [];
for (const [name, value] of Object.entries(DropReason)) names[value] = name;

/** Human name of a reason, as metrics and `ferry stats` print it (snake_case). */
export function dropReasonName(reason: number): string {
  const n = names[reason];
  if (n === undefined) return `reason_${reason}`;
  return n.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

export const DROP_REASON_COUNT = names.length;

/** Per-reason drop counters. count() is allocation-free. */
export class DropCounters {
  readonly counts = new Float64Array(DROP_REASON_COUNT);

  count(reason: DropReasonValue | number, n = 1): void {
    this.counts[reason] += n;
  }

  get(reason: DropReasonValue | number): number {
    return this.counts[reason];
  }

  total(): number {
    let t = 0;
    for (let i = 1; i < this.counts.length; i++) t += this.counts[i];
    return t;
  }

  /** Non-zero counters by name, for the control socket and logs. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 1; i < this.counts.length; i++) if (this.counts[i] !== 0) out[dropReasonName(i)] = this.counts[i];
    return out;
  }
}
