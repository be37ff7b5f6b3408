/**
 * ARP for IPv4 over Ethernet (RFC 826): the only kind ferry answers, for VXLAN
 * neighbour suppression. Parse a request or reply; turn a request into a reply in place.
 */
import { DropReason, type DropReasonValue } from '../stats/drop-reasons.js';
import { copyBytes, readU16, readU32, validRange, writeU16, writeU32 } from './bytes.js';
import { ARP_HTYPE_ETHERNET, ARP_IPV4_LENGTH, ARPOperation, EtherType, MAC_LENGTH } from './constants.js';

export class ARPPacket {
  /** Absolute offset of the ARP packet in the buffer. */
  offset = 0;
  /** ARPOperation: 1 request, 2 reply. */
  operation = 0;
  /** Absolute offsets of the sender and target hardware addresses (6 bytes). */
  senderMacOffset = 0;
  targetMacOffset = 0;
  /** Protocol addresses as unsigned 32-bit numbers. */
  senderIP = 0;
  targetIP = 0;
}

/**
 * Parses the ARP packet at buf[off, off + len) (the Ethernet payload; padding after 28
 * bytes is ignored). Returns DropReason.None, Truncated, or UnsupportedProtocol when it
 * is not Ethernet/IPv4 (htype 1, ptype 0x0800, sizes 6 and 4) or not a request/reply.
 */
export function parseARP(buf: Uint8Array, off: number, len: number, out: ARPPacket): DropReasonValue {
  if (!validRange(buf, off, len) || len < ARP_IPV4_LENGTH) return DropReason.Truncated;
  if (readU16(buf, off) !== ARP_HTYPE_ETHERNET || readU16(buf, off + 2) !== EtherType.IPv4) return DropReason.UnsupportedProtocol;
  if (buf[off + 4] !== MAC_LENGTH || buf[off + 5] !== 4) return DropReason.UnsupportedProtocol;
  const op = readU16(buf, off + 6);
  if (op !== ARPOperation.Request && op !== ARPOperation.Reply) return DropReason.UnsupportedProtocol;
  out.offset = off;
  out.operation = op;
  out.senderMacOffset = off + 8;
  out.senderIP = readU32(buf, off + 14);
  out.targetMacOffset = off + 18;
  out.targetIP = readU32(buf, off + 24);
  return DropReason.None;
}

/**
 * Writes a 28-byte Ethernet/IPv4 ARP packet at buf[off], MACs copied from
 * senderMac[senderMacOff] and targetMac[targetMacOff]. Returns 28.
 */
export function writeARP(
  buf: Uint8Array,
  off: number,
  operation: number,
  senderMac: Uint8Array,
  senderMacOff: number,
  senderIP: number,
  targetMac: Uint8Array,
  targetMacOff: number,
  targetIP: number,
): number {
  writeU16(buf, off, ARP_HTYPE_ETHERNET);
  writeU16(buf, off + 2, EtherType.IPv4);
  buf[off + 4] = MAC_LENGTH;
  buf[off + 5] = 4;
  writeU16(buf, off + 6, operation);
  copyBytes(senderMac, senderMacOff, buf, off + 8, MAC_LENGTH);
  writeU32(buf, off + 14, senderIP);
  copyBytes(targetMac, targetMacOff, buf, off + 18, MAC_LENGTH);
  writeU32(buf, off + 24, targetIP);
  return ARP_IPV4_LENGTH;
}

/**
 * Turns the request parsed into arp into the reply "targetIP is at mac[macOff]", in
 * place: the requester becomes the target, we the sender. Updates the view. Returns 28,
 * or 0 when arp is not a request. (Readdress the Ethernet header with ethernetReplyInPlace.)
 */
export function arpReplyInPlace(buf: Uint8Array, arp: ARPPacket, mac: Uint8Array, macOff: number): number {
  if (arp.operation !== ARPOperation.Request) return 0;
  const off = arp.offset;
  writeU16(buf, off + 6, ARPOperation.Reply);
  copyBytes(buf, off + 8, buf, off + 18, MAC_LENGTH);
  copyBytes(mac, macOff, buf, off + 8, MAC_LENGTH);
  const asked = arp.targetIP;
  writeU32(buf, off + 24, arp.senderIP);
  writeU32(buf, off + 14, asked);
  arp.operation = ARPOperation.Reply;
  arp.targetIP = arp.senderIP;
  arp.senderIP = asked;
  return ARP_IPV4_LENGTH;
}
