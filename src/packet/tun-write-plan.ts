/**
 * The write side of TUN offloads: how a batch of IP packets goes to a TUN opened with
 * IFF_VNET_HDR, as groups of iovecs, one writev() per group, straight from the pool slots.
 * With coalescing, consecutive TCP segments of one flow (and UDP datagrams, when the TUN
 * takes USO) become one super-packet (GRO done by us, rules in coalesce-rules.ts): the
 * head packet's headers are patched in place and the followers contribute only their
 * payload iovecs, so the kernel runs TCP (or UDP) once per group. Everything else is written alone
 * behind a plain virtio header.
 */
import { readU16, readU32, validRange, writeU16 } from './bytes.js';
import { foldSum, internetChecksum, pseudoSumIPv4, pseudoSumIPv6 } from './checksum.js';
import { IPProto } from './constants.js';
import { MAX_GROUP_PACKETS, MAX_SUPER_PACKET, TCP_CWR, TCP_PSH, checksumsValid, coalesceInfo, ipHeadersMatch, l4Info, sameFlow, tcpHeadersMatch } from './coalesce-rules.js';
import { VIRTIO_NET_HDR_LEN, VirtioGsoType, VirtioNetFlag, VirtioNetHdr } from './virtio-net-hdr.js';

/** A group's coalescing state. */
const Untracked = 0; // not TCP/UDP as coalescing knows it: written alone, never a flow's place
const Open = 1; // a mergeable head: later segments of its flow may join
const Tracked = 2; // a TCP/UDP packet that only holds its flow's place (or a group that ended)
const Unchecked = 0; // head checksums not verified yet (done once, when a follower arrives)
const Valid = 1;
const Invalid = 2;

export class TunWritePlan {
  readonly iovOffsets: Int32Array; // into buf
  readonly iovLengths: Int32Array;
  readonly groupIovStart: Int32Array;
  readonly groupIovCount: Int32Array;
  readonly groupPackets: Int32Array; // input packets per group (for counting)
  groupCount = 0;
  /**
   * Merge UDP datagrams too (gsoType UdpL4). Set it only when the TUN accepted USO
   * (TUN_F_USO4 | TUN_F_USO6, Linux 6.2+): a kernel without it may refuse such writes.
   */
  udp = false;

  private readonly maxPackets: number;
  private readonly packetGroup: Int32Array; // input index → group
  private readonly iovPacket: Int32Array; // iov → input index
  private readonly iovPacketOffset: Int32Array; // iov → offsets[input index]
  private readonly head: Int32Array; // group → head's input index
  private readonly state: Int32Array;
  private readonly proto: Int32Array; // IPProto.TCP or UDP for a tracked group
  private readonly csum: Int32Array;
  private readonly ipLen: Int32Array;
  private readonly l4Len: Int32Array;
  private readonly gsoSize: Int32Array;
  private readonly total: Int32Array; // super-packet length so far
  private readonly nextSeq: Uint32Array;
  private readonly psh: Uint8Array;
  /** Head fields overwritten by a merge, for unmerge: IP length, IPv4 header checksum, TCP flags or UDP length, L4 checksum. */
  private readonly saved: Int32Array;
  private readonly hdr = new VirtioNetHdr();

  constructor(maxPackets: number) {
    this.maxPackets = maxPackets;
    this.iovOffsets = new Int32Array(maxPackets);
    this.iovLengths = new Int32Array(maxPackets);
    this.groupIovStart = new Int32Array(maxPackets);
    this.groupIovCount = new Int32Array(maxPackets);
    this.groupPackets = new Int32Array(maxPackets);
    this.packetGroup = new Int32Array(maxPackets);
    this.iovPacket = new Int32Array(maxPackets);
    this.iovPacketOffset = new Int32Array(maxPackets);
    this.head = new Int32Array(maxPackets);
    this.state = new Int32Array(maxPackets);
    this.proto = new Int32Array(maxPackets);
    this.csum = new Int32Array(maxPackets);
    this.ipLen = new Int32Array(maxPackets);
    this.l4Len = new Int32Array(maxPackets);
    this.gsoSize = new Int32Array(maxPackets);
    this.total = new Int32Array(maxPackets);
    this.nextSeq = new Uint32Array(maxPackets);
    this.psh = new Uint8Array(maxPackets);
    this.saved = new Int32Array(maxPackets * 4);
  }

  /**
   * Plans the writes of packets offsets[i]/lengths[i], i < count (each with at least
   * VIRTIO_NET_HDR_LEN bytes of headroom before it, which is overwritten with its virtio
   * header). Returns the group count, or -1 when count exceeds maxPackets or a packet's
   * range or headroom is not inside buf (nothing planned then).
   * Each group g is iovecs [groupIovStart[g], +groupIovCount[g]): the first is the virtio
   * header and the head packet, the others a follower's L4 payload. Groups are in the
   * order of their head packets, so every flow's order is kept.
   */
  build(buf: Uint8Array, offsets: Int32Array, lengths: Int32Array, count: number, coalesce: boolean): number {
    this.groupCount = 0;
    if (count > this.maxPackets || count > offsets.length || count > lengths.length) return -1;
    for (let i = 0; i < count; i++) {
      if (offsets[i] < VIRTIO_NET_HDR_LEN || !validRange(buf, offsets[i], lengths[i])) return -1;
    }
    for (let i = 0; i < count; i++) {
      if (!coalesce || !this.tryAppend(buf, offsets, lengths, i)) this.startGroup(buf, offsets[i], lengths[i], i, coalesce);
    }
    let iov = 0;
    for (let g = 0; g < this.groupCount; g++) {
      this.groupIovStart[g] = iov;
      iov += this.groupPackets[g];
      this.groupIovCount[g] = 0;
    }
    for (let i = 0; i < count; i++) {
      const g = this.packetGroup[i];
      const k = this.groupIovStart[g] + this.groupIovCount[g]++;
      this.iovPacket[k] = i;
      this.iovPacketOffset[k] = offsets[i];
      if (i === this.head[g]) {
        this.iovOffsets[k] = offsets[i] - VIRTIO_NET_HDR_LEN;
        this.iovLengths[k] = lengths[i] + VIRTIO_NET_HDR_LEN;
      } else {
        const headers = this.ipLen[g] + this.l4Len[g];
        this.iovOffsets[k] = offsets[i] + headers;
        this.iovLengths[k] = lengths[i] - headers;
      }
    }
    for (let g = 0; g < this.groupCount; g++) {
      const at = offsets[this.head[g]];
      if (this.groupPackets[g] > 1) this.patchHead(buf, g, at);
      else this.writePlainHeader(buf, at);
    }
    return this.groupCount;
  }

  /**
   * Undoes group g's merge: the head's original header bytes come back, every member gets
   * a plain virtio header in its headroom, and members[0..n) receives the members' input
   * indices in order, so the caller can write each alone (offsets[i] - VIRTIO_NET_HDR_LEN,
   * lengths[i] + VIRTIO_NET_HDR_LEN), e.g. after EINVAL on an offloaded write. Returns n,
   * or -1 when g is not a group of the last build or members is too short.
   */
  unmerge(buf: Uint8Array, g: number, members: Int32Array): number {
    if (!(g >= 0 && g < this.groupCount) || members.length < this.groupPackets[g]) return -1;
    const start = this.groupIovStart[g];
    const n = this.groupPackets[g];
    if (n > 1) this.restoreHead(buf, g, this.iovPacketOffset[start]);
    for (let k = 0; k < n; k++) {
      members[k] = this.iovPacket[start + k];
      this.writePlainHeader(buf, this.iovPacketOffset[start + k]);
    }
    return n;
  }

  private startGroup(buf: Uint8Array, off: number, len: number, i: number, coalesce: boolean): void {
    const g = this.groupCount++;
    this.packetGroup[i] = g;
    this.head[g] = i;
    this.groupPackets[g] = 1;
    this.state[g] = Untracked;
    if (!coalesce || !coalesceInfo(buf, off, len, this.udp)) return;
    const ipLen = l4Info[1];
    const l4Len = l4Info[2];
    const proto = l4Info[4];
    const psh = proto === IPProto.TCP && (buf[off + ipLen + 13] & TCP_PSH) !== 0;
    this.state[g] = l4Info[3] === 1 && !psh ? Open : Tracked;
    this.proto[g] = proto;
    this.csum[g] = Unchecked;
    this.ipLen[g] = ipLen;
    this.l4Len[g] = l4Len;
    this.gsoSize[g] = len - ipLen - l4Len;
    this.total[g] = len;
    this.nextSeq[g] = proto === IPProto.TCP ? (readU32(buf, off + ipLen + 4) + len - ipLen - l4Len) >>> 0 : 0;
    this.psh[g] = 0;
  }

  /** Appends packet i to the last group of its flow when every rule allows; false otherwise. */
  private tryAppend(buf: Uint8Array, offsets: Int32Array, lengths: Int32Array, i: number): boolean {
    const off = offsets[i];
    const len = lengths[i];
    if (!coalesceInfo(buf, off, len, this.udp)) return false;
    const ipLen = l4Info[1];
    const proto = l4Info[4];
    let g = this.groupCount - 1;
    for (; g >= 0; g--) {
      if (this.state[g] !== Untracked && this.proto[g] === proto && this.ipLen[g] === ipLen && sameFlow(buf, offsets[this.head[g]], off, ipLen)) break;
    }
    if (g < 0 || this.state[g] !== Open || l4Info[3] !== 1) return false;
    const l4Len = l4Info[2];
    const payload = len - ipLen - l4Len;
    const headOff = offsets[this.head[g]];
    if (this.l4Len[g] !== l4Len || payload > this.gsoSize[g] || this.total[g] + payload > MAX_SUPER_PACKET) return false;
    if (proto === IPProto.TCP) {
      if (readU32(buf, off + ipLen + 4) !== this.nextSeq[g] || !tcpHeadersMatch(buf, headOff, off, ipLen, l4Len)) return false;
    } else if (!ipHeadersMatch(buf, headOff, off, ipLen)) {
      return false;
    }
    if (this.csum[g] === Unchecked) {
      this.csum[g] = checksumsValid(buf, headOff, lengths[this.head[g]], ipLen, proto) ? Valid : Invalid;
    }
    if (this.csum[g] === Invalid) {
      this.state[g] = Tracked;
      return false;
    }
    if (!checksumsValid(buf, off, len, ipLen, proto)) return false;
    this.packetGroup[i] = g;
    this.groupPackets[g]++;
    this.total[g] += payload;
    this.nextSeq[g] = (this.nextSeq[g] + payload) >>> 0;
    const pshSet = proto === IPProto.TCP && (buf[off + ipLen + 13] & TCP_PSH) !== 0;
    if (pshSet) this.psh[g] = 1;
    // A PSH or a shorter segment ends the group (nothing may follow a short one), and so
    // does the most one writev takes.
    if (pshSet || payload < this.gsoSize[g] || this.groupPackets[g] >= MAX_GROUP_PACKETS) this.state[g] = Tracked;
    return true;
  }

  /** Makes the head a super-packet: lengths, PSH, pseudo-header partial checksum, virtio GSO header. */
  private patchHead(buf: Uint8Array, g: number, at: number): void {
    const ipLen = this.ipLen[g];
    const proto = this.proto[g];
    const l4 = at + ipLen;
    const csumAt = l4 + (proto === IPProto.TCP ? 16 : 6);
    const total = this.total[g];
    const s = g * 4;
    this.saved[s] = readU16(buf, at + (ipLen === 20 ? 2 : 4));
    this.saved[s + 1] = readU16(buf, at + 10);
    this.saved[s + 2] = proto === IPProto.TCP ? buf[l4 + 13] : readU16(buf, l4 + 4);
    this.saved[s + 3] = readU16(buf, csumAt);
    let pseudo: number;
    if (ipLen === 20) {
      writeU16(buf, at + 2, total);
      writeU16(buf, at + 10, 0);
      writeU16(buf, at + 10, internetChecksum(buf, at, 20));
      pseudo = pseudoSumIPv4(readU32(buf, at + 12), readU32(buf, at + 16), proto, total - 20);
    } else {
      writeU16(buf, at + 4, total - 40);
      pseudo = pseudoSumIPv6(buf, at + 8, at + 24, proto, total - 40);
    }
    const h = this.hdr;
    if (proto === IPProto.TCP) {
      if (this.psh[g] === 1) buf[l4 + 13] |= TCP_PSH;
      h.gsoType = ipLen === 20 ? VirtioGsoType.TcpV4 : VirtioGsoType.TcpV6;
      if ((buf[l4 + 13] & TCP_CWR) !== 0) h.gsoType |= VirtioGsoType.Ecn;
    } else {
      writeU16(buf, l4 + 4, total - ipLen);
      h.gsoType = VirtioGsoType.UdpL4;
    }
    // CHECKSUM_PARTIAL: the field holds the pseudo-header sum, the kernel adds the rest.
    writeU16(buf, csumAt, foldSum(pseudo));
    h.flags = VirtioNetFlag.NeedsCsum;
    h.hdrLen = ipLen + this.l4Len[g];
    h.gsoSize = this.gsoSize[g];
    h.csumStart = ipLen;
    h.csumOffset = csumAt - l4;
    h.write(buf, at - VIRTIO_NET_HDR_LEN);
  }

  private restoreHead(buf: Uint8Array, g: number, at: number): void {
    const ipLen = this.ipLen[g];
    const l4 = at + ipLen;
    const s = g * 4;
    writeU16(buf, at + (ipLen === 20 ? 2 : 4), this.saved[s]);
    if (ipLen === 20) writeU16(buf, at + 10, this.saved[s + 1]);
    if (this.proto[g] === IPProto.TCP) {
      buf[l4 + 13] = this.saved[s + 2];
      writeU16(buf, l4 + 16, this.saved[s + 3]);
    } else {
      writeU16(buf, l4 + 4, this.saved[s + 2]);
      writeU16(buf, l4 + 6, this.saved[s + 3]);
    }
  }

  private writePlainHeader(buf: Uint8Array, at: number): void {
    this.hdr.clear();
    this.hdr.write(buf, at - VIRTIO_NET_HDR_LEN);
  }
}
