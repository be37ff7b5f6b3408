/**
 * Protocol numbers and header sizes the packet codecs use, in one place. Values are
 * the IANA / IEEE registry numbers; names follow the RFCs.
 */

/** IP protocol numbers (IPv4 Protocol, IPv6 Next Header). */
export const IPProto = {
  HopByHop: 0,
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  IPv6Route: 43,
  IPv6Fragment: 44,
  ESP: 50,
  AH: 51,
  ICMPv6: 58,
  IPv6NoNext: 59,
  IPv6DestOpts: 60,
} as const;

export const EtherType = {
  IPv4: 0x0800,
  ARP: 0x0806,
  VLAN: 0x8100,
  IPv6: 0x86dd,
  QinQ: 0x88a8,
} as const;

export const IPV4_HEADER_LENGTH = 20;
export const IPV6_HEADER_LENGTH = 40;
export const IPV6_FRAGMENT_HEADER_LENGTH = 8;
export const UDP_HEADER_LENGTH = 8;
export const TCP_HEADER_LENGTH = 20;
/** Type, code, checksum and the 4-byte rest-of-header: same for ICMPv4 and ICMPv6. */
export const ICMP_HEADER_LENGTH = 8;
export const ETHERNET_HEADER_LENGTH = 14;
export const VLAN_TAG_LENGTH = 4;
export const MAC_LENGTH = 6;
export const ARP_IPV4_LENGTH = 28;

/**
 * Extension headers walked before giving up (RFC 8200 puts no limit; RFC 7112 and
 * Linux's own limits exist so an attacker cannot make us walk a long chain).
 */
export const MAX_IPV6_EXTENSION_HEADERS = 8;

/** An ICMPv4 error is at most this long (RFC 1812 4.3.2.3). */
export const ICMPV4_ERROR_MAX_LENGTH = 576;
/** An ICMPv6 error must not exceed the IPv6 minimum MTU (RFC 4443 2.4 c). */
export const ICMPV6_ERROR_MAX_LENGTH = 1280;

/** Options for parseIPv4 / parseIPv6 / parseIP, OR-ed together. */
export const IPParseFlag = {
  None: 0,
  /** IPv4 only: verify the header checksum (skip it for packets from a TUN the kernel built). */
  VerifyChecksum: 1,
  /** Drop fragments (IPv4 MF or offset; IPv6 non-atomic fragment header) with DropReason.Fragment. */
  RejectFragments: 2,
} as const;

/** IPv4 flags field (top three bits of bytes 6..7), as in the view's `flags`. */
export const IPv4Flag = {
  MoreFragments: 0x1,
  DontFragment: 0x2,
} as const;

/** TCP flags: byte 13, plus the AE (ex-NS) bit from byte 12 as 0x100. */
export const TCPFlag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
  AE: 0x100,
} as const;

export const ICMPv4Type = {
  EchoReply: 0,
  DestinationUnreachable: 3,
  SourceQuench: 4,
  Redirect: 5,
  EchoRequest: 8,
  TimeExceeded: 11,
  ParameterProblem: 12,
} as const;

export const ICMPv4UnreachableCode = {
  Network: 0,
  Host: 1,
  Protocol: 2,
  Port: 3,
  FragmentationNeeded: 4,
  AdministrativelyProhibited: 13,
} as const;

export const ICMPv6Type = {
  DestinationUnreachable: 1,
  PacketTooBig: 2,
  TimeExceeded: 3,
  ParameterProblem: 4,
  EchoRequest: 128,
  EchoReply: 129,
} as const;

export const ICMPv6UnreachableCode = {
  NoRoute: 0,
  AdministrativelyProhibited: 1,
  Address: 3,
  Port: 4,
} as const;

/** Hop-by-hop limits ferry uses on packets it originates (Linux's default). */
export const DEFAULT_TTL = 64;
/** Internetwork control precedence, as Linux marks the ICMP errors it sends. */
export const ICMP_ERROR_TOS = 0xc0;

export const ARPOperation = {
  Request: 1,
  Reply: 2,
} as const;
/** ARP hardware type Ethernet. */
export const ARP_HTYPE_ETHERNET = 1;
