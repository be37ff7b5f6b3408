/**
 * A packet from the host larger than the interface MTU is dropped and answered, as the
 * kernel answers a router's oversize packet: ICMPv4 "fragmentation needed" (when DF is
 * set; without DF the kernel would have fragmented it before the TUN, so it is only
 * dropped) or ICMPv6 "packet too big", announcing the MTU, back into the TUN so the
 * sender's path MTU shrinks. The answer comes from the quoted packet's destination, the
 * one address ferry knows the sender routes through this interface.
 */
import type { BufferPool } from '../buffer/pool.js';
import { IPv4Flag } from '../packet/constants.js';
import { icmpv4ErrorAllowed, icmpv6ErrorAllowed, writeICMPv4FragmentationNeeded, writeICMPv6PacketTooBig } from '../packet/icmp-error.js';
import { ICMPv6Type } from '../packet/constants.js';
import { IPv4Header, parseIPv4 } from '../packet/ipv4.js';
import { IPv6Header, parseIPv6 } from '../packet/ipv6.js';
import { DropReason } from '../stats/drop-reasons.js';

/** Where the answer landed: a fresh pool slot and its length (slot -1: no answer). Reused. */
export class TooBigReply {
  slot = -1;
  offset = 0;
  length = 0;
}

const v4 = new IPv4Header();
const v6 = new IPv6Header();

/** Builds the ICMP answer to slab[off, off + len) in a new slot; reply.slot is -1 when none is due. */
export function replyTooBig(pool: BufferPool, off: number, len: number, mtu: number, reply: TooBigReply): void {
  reply.slot = -1;
  const slab = pool.slab;
  const version = slab[off] >>> 4;
  if (version === 4) {
    if (parseIPv4(slab, off, len, v4) !== DropReason.None || (v4.flags & IPv4Flag.DontFragment) === 0 || !icmpv4ErrorAllowed(slab, v4)) return;
  } else if (version === 6) {
    if (parseIPv6(slab, off, len, v6) !== DropReason.None || !icmpv6ErrorAllowed(slab, v6, ICMPv6Type.PacketTooBig)) return;
  } else {
    return;
  }
  const slot = pool.acquire();
  if (slot < 0) return;
  const out = pool.dataOffset(slot);
  const cap = pool.capacityOf(slot);
  const n =
    version === 4
      ? writeICMPv4FragmentationNeeded(slab, out, cap, v4.dst, mtu, slab, off, len)
      : writeICMPv6PacketTooBig(slab, out, cap, slab, off + 24, mtu, slab, off, len);
  if (n <= 0) {
    pool.release(slot);
    return;
  }
  reply.slot = slot;
  reply.offset = out;
  reply.length = n;
}
