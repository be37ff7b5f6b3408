/**
 * A VTEP answers, on behalf of its interface, the ARP requests and IPv6 neighbour
 * solicitations a kernel VTEP sends for our addresses: flannel's kernel nodes keep static
 * neighbour entries, but a kernel side programmed without them (or probing a stale entry)
 * asks, and nobody else on the overlay would answer. The answer is built in place over
 * the question's frame; the caller sends it back to the VTEP that asked.
 */
import { ARPPacket, arpReplyInPlace, parseARP } from '../packet/arp.js';
import { ARPOperation, ETHERNET_HEADER_LENGTH, MAC_LENGTH } from '../packet/constants.js';
import { ethernetReplyInPlace } from '../packet/ethernet.js';
import { neighborAdvertisementInPlace, NeighborSolicitation, parseNeighborSolicitation } from '../packet/ndp.js';
import { DropReason } from '../stats/drop-reasons.js';
import type { LocalAddresses } from './local-addresses.js';

/** Ethernet destination of an advertisement to all nodes (ff02::1). */
const ALL_NODES_MAC = Uint8Array.of(0x33, 0x33, 0, 0, 0, 1);

export class NeighborResponder {
  arpReplies = 0;
  ndReplies = 0;
  private readonly arp = new ARPPacket();
  private readonly ns = new NeighborSolicitation();

  constructor(
    private readonly mac: Uint8Array,
    readonly locals: LocalAddresses,
  ) {}

  /**
   * Answers the ARP frame at buf[frame, frame + len) in place. Returns the reply frame's
   * length, or -reason: a malformed packet's, or VxlanNeighborIgnored for a reply, a
   * gratuitous announcement, or a request for an address that is not ours.
   */
  answerArp(buf: Uint8Array, frame: number, len: number): number {
    const arp = this.arp;
    const r = parseARP(buf, frame + ETHERNET_HEADER_LENGTH, len - ETHERNET_HEADER_LENGTH, arp);
    if (r !== DropReason.None) return -r;
    if (arp.operation !== ARPOperation.Request || arp.senderIP === arp.targetIP || !this.locals.hasV4(arp.targetIP)) return -DropReason.VxlanNeighborIgnored;
    const n = arpReplyInPlace(buf, arp, this.mac, 0);
    ethernetReplyInPlace(buf, frame, this.mac, 0);
    this.arpReplies++;
    return ETHERNET_HEADER_LENGTH + n;
  }

  /**
   * Answers the neighbour solicitation in the IPv6 frame at buf[frame, frame + len), with
   * `room` bytes available from frame on. Returns the advertisement frame's length, or
   * -reason as answerArp does.
   */
  answerSolicitation(buf: Uint8Array, frame: number, len: number, room: number): number {
    const ns = this.ns;
    const ip = frame + ETHERNET_HEADER_LENGTH;
    const r = parseNeighborSolicitation(buf, ip, len - ETHERNET_HEADER_LENGTH, ns);
    if (r !== DropReason.None) return -r;
    if (!this.locals.hasV6(buf, ns.targetOffset)) return -DropReason.VxlanNeighborIgnored;
    const n = neighborAdvertisementInPlace(buf, ip, room - ETHERNET_HEADER_LENGTH, ns, this.mac, 0);
    if (n === 0) return -DropReason.Truncated;
    ethernetReplyInPlace(buf, frame, this.mac, 0);
    if (ns.unspecifiedSource) for (let i = 0; i < MAC_LENGTH; i++) buf[frame + i] = ALL_NODES_MAC[i];
    this.ndReplies++;
    return ETHERNET_HEADER_LENGTH + n;
  }
}
