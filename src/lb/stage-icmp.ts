/**
 * ICMP through the load balancer:
 *
 * - an error (unreachable, fragmentation needed / packet too big, time exceeded,
 *   parameter problem) quoting a packet of a known flow is translated like a packet of
 *   that flow, outer header and quote (nat.ts), so path MTU discovery and "connection
 *   refused" work through the VIP; one quoting no known flow is dropped when addressed to
 *   the LB, and passes otherwise;
 * - a port unreachable that a UDP backend sends about its flow is a passive failure: the
 *   backend leaves the table at once and its flows move on their next packet;
 * - an echo request to a VIP is answered in place; any other ICMP to the LB is dropped.
 */
import { Verdict } from '../datapath/plane.js';
import { readU16 } from '../packet/bytes.js';
import { ICMPv4Type, ICMPv4UnreachableCode, ICMPv6Type, ICMPv6UnreachableCode, IPProto } from '../packet/constants.js';
import { icmpv4ErrorAllowed, icmpv6ErrorAllowed } from '../packet/icmp-error.js';
import { ICMPHeader, icmpv4EchoReplyInPlace, icmpv6EchoReplyInPlace, parseICMP } from '../packet/icmp.js';
import type { IPPacket } from '../packet/ip.js';
import { DropReason } from '../stats/drop-reasons.js';
import { Dir } from './conntrack-states.js';
import { icmpChecksumValid, rewriteIcmpError } from './nat.js';
import type { LbStage } from './stage.js';

export class StageIcmp {
  private readonly icmp = new ICMPHeader();

  constructor(private readonly stage: LbStage) {}

  handle(slab: Uint8Array, off: number, ip: IPPacket, toUs: boolean, now: number): number {
    const family = ip.version;
    const icmpOff = ip.payloadOffset;
    const icmpLen = ip.payloadLength;
    if (icmpLen < 8) return toUs ? -DropReason.Truncated : Verdict.Pass;
    const type = slab[icmpOff];
    const error =
      family === 4
        ? type === ICMPv4Type.DestinationUnreachable || type === ICMPv4Type.TimeExceeded || type === ICMPv4Type.ParameterProblem
        : type >= ICMPv6Type.DestinationUnreachable && type <= ICMPv6Type.ParameterProblem;
    if (error) return this.error(slab, off, ip, toUs, now);
    if (!toUs) return Verdict.Pass;
    if (type !== (family === 4 ? ICMPv4Type.EchoRequest : ICMPv6Type.EchoRequest)) return -DropReason.UnsupportedProtocol;
    if (!this.stage.balancer.index.hasAddress(family, slab, ip.dstOffset)) return -DropReason.LbNoService;
    parseICMP(slab, icmpOff, icmpLen, this.icmp);
    const n = family === 4 ? icmpv4EchoReplyInPlace(slab, off, ip.v4, this.icmp) : icmpv6EchoReplyInPlace(slab, off, ip.v6, this.icmp);
    if (n === 0) return -DropReason.UnsupportedProtocol;
    this.stage.stats.echoReplies++;
    return Verdict.Forward;
  }

  /** May an ICMP error be sent about this packet (RFC 1122 / RFC 4443 rules)? */
  errorAllowed(slab: Uint8Array, ip: IPPacket): boolean {
    return ip.version === 4 ? icmpv4ErrorAllowed(slab, ip.v4) : icmpv6ErrorAllowed(slab, ip.v6, ICMPv6Type.DestinationUnreachable);
  }

  private error(slab: Uint8Array, off: number, ip: IPPacket, toUs: boolean, now: number): number {
    const family = ip.version;
    const icmpOff = ip.payloadOffset;
    const icmpLen = ip.payloadLength;
    const end = icmpOff + icmpLen;
    const inner = icmpOff + 8;
    let innerProto = 0;
    let innerL4 = 0;
    let innerSrc = 0;
    let innerDst = 0;
    if (family === 4) {
      const ihl = (slab[inner] & 0x0f) << 2;
      if (end - inner < 28 || slab[inner] >>> 4 !== 4 || ihl < 20 || end - inner < ihl + 8) return this.unknown(toUs);
      if ((readU16(slab, inner + 6) & 0x1fff) !== 0) return this.unknown(toUs); // a later fragment: no ports quoted
      innerProto = slab[inner + 9];
      innerSrc = inner + 12;
      innerDst = inner + 16;
      innerL4 = inner + ihl;
    } else {
      if (end - inner < 48 || slab[inner] >>> 4 !== 6) return this.unknown(toUs);
      innerProto = slab[inner + 6];
      innerSrc = inner + 8;
      innerDst = inner + 24;
      innerL4 = inner + 40;
    }
    if (innerProto !== IPProto.TCP && innerProto !== IPProto.UDP) return this.unknown(toUs);
    const sport = readU16(slab, innerL4);
    const dport = readU16(slab, innerL4 + 2);
    const stage = this.stage;
    const ct = stage.ct;
    // The quote is a packet the error's receiver sent: its inverse is a tuple of the flow.
    const node = ct.lookup(innerProto, family, slab, innerDst, dport, slab, innerSrc, sport, now);
    if (node < 0) return this.unknown(toUs);
    if (!icmpChecksumValid(slab, off, family, icmpOff, icmpLen)) return -DropReason.BadChecksum;
    const e = node >>> 1;
    const dir = node & 1;
    const svc = stage.balancer.services[ct.service[e]];
    const b = stage.balancer.backends[ct.backend[e]];
    if (dir === Dir.Reply && innerProto === IPProto.UDP && b !== undefined && this.portUnreachable(slab, icmpOff, family) && sameAddress(slab, ip.srcOffset, b.address, ip.addressLength)) {
      stage.stats.passiveFailures++;
      if (stage.health !== null) stage.health.passiveFailure(b, now);
      else stage.balancer.setHealthy(b, false);
      return stage.countDrop(svc, b, DropReason.LbBackendFailed);
    }
    const other = dir ^ 1;
    const a = ct.addrOffset(e, other);
    rewriteIcmpError(slab, off, family, icmpOff, icmpLen, inner, innerProto, innerL4, end - innerL4, ct.addrs, a + 16, a, a, ct.sport(e, other), a + 16, ct.dport(e, other));
    stage.stats.icmpTranslated++;
    return Verdict.Forward;
  }

  private portUnreachable(slab: Uint8Array, icmpOff: number, family: number): boolean {
    const type = slab[icmpOff];
    const code = slab[icmpOff + 1];
    if (family === 4) return type === ICMPv4Type.DestinationUnreachable && code === ICMPv4UnreachableCode.Port;
    return type === ICMPv6Type.DestinationUnreachable && code === ICMPv6UnreachableCode.Port;
  }

  private unknown(toUs: boolean): number {
    return toUs ? -DropReason.LbIcmpUnknownFlow : Verdict.Pass;
  }
}

function sameAddress(a: Uint8Array, aOff: number, b: Uint8Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[aOff + i] !== b[i]) return false;
  return true;
}
