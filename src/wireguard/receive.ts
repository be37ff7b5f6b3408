/**
 * The receive half of the WireGuard plane (wireguard-go receive.go), run once per UDP batch:
 * transport messages are matched to their keypair by receiver index and opened together
 * in one AEAD call; each one that authenticates and is not a replay then updates its peer
 * (roaming, keypair confirmation, timers, counters; once per run of packets under one
 * keypair) and, unless it is a keepalive, goes toward the host (PlaneIo.deliver) if its
 * inner source address belongs to that peer. Handshake messages are only length-checked
 * here and parked, slot and all, in the handshake queue for the control path. Nothing
 * here allocates per packet.
 */
import { PacketBatch } from '../buffer/batch.js';
import { ENDPOINT_STRIDE, endpointEquals, endpointRecordEquals } from '../io/endpoint.js';
import { DropReason } from '../stats/drop-reasons.js';
import {
  KEEPALIVE_TIMEOUT_MS,
  MESSAGE_COOKIE_REPLY_SIZE,
  MESSAGE_INITIATION_SIZE,
  MESSAGE_RESPONSE_SIZE,
  MESSAGE_TRANSPORT_HEADER_SIZE,
  MESSAGE_TRANSPORT_MIN_SIZE,
  MessageType,
  REJECT_AFTER_TIME_MS,
  REKEY_TIMEOUT_MS,
  TRANSPORT_OFFSET_COUNTER,
  TRANSPORT_OFFSET_RECEIVER,
} from './constants.js';
import type { DatapathContext } from './datapath-context.js';
import type { Keypair } from './keypair.js';
import { readU32LE } from './messages.js';
import type { Peer } from './peer.js';
import { REJECT_AFTER_MESSAGES_HI, REJECT_AFTER_MESSAGES_LO } from './replay.js';

/** A run of authenticated packets under one keypair, for the bookkeeping done once per run. */
class RxRun {
  keypair: Keypair | null = null;
  /** Endpoint record offset (in the UDP batch) of the run's last packet. */
  lastEndpoint = 0;
  bytes = 0;
  dataPackets = 0;

  start(kp: Keypair): void {
    this.keypair = kp;
    this.bytes = 0;
    this.dataPackets = 0;
  }

  note(endpointOffset: number, plen: number): void {
    this.lastEndpoint = endpointOffset;
    this.bytes += plen + MESSAGE_TRANSPORT_MIN_SIZE;
    if (plen > 0) this.dataPackets++;
  }
}

/** The open batch: per entry its keypair, key slot, result and the datagram it came from. */
export class RxScratch {
  readonly batch: PacketBatch;
  readonly keyIndex: Int32Array;
  readonly results: Int32Array;
  /** Index of the entry's datagram in the UDP batch (for its source endpoint). */
  readonly source: Int32Array;
  readonly keypairs: Array<Keypair | null>;
  readonly run = new RxRun();

  constructor(capacity: number) {
    this.batch = new PacketBatch(capacity);
    this.keyIndex = new Int32Array(capacity);
    this.results = new Int32Array(capacity);
    this.source = new Int32Array(capacity);
    this.keypairs = new Array<Keypair | null>(capacity).fill(null);
  }
}

function drop(ctx: DatapathContext, slot: number, reason: number, peer: Peer | null = null): void {
  ctx.pool.release(slot);
  ctx.dropFor(peer, reason);
}

/** Drops datagram i of a UDP batch, shown to a running capture first. */
function dropDatagram(ctx: DatapathContext, batch: PacketBatch, i: number, reason: number, peer: Peer | null = null): void {
  const io = ctx.io;
  if (io.capturing) io.captureDrop(reason, batch.offsets[i], batch.lengths[i], peer, batch.endpoints, i * ENDPOINT_STRIDE);
  drop(ctx, batch.slots[i], reason, peer);
}

/** Drops a decrypted inner packet, shown to a running capture first. */
function dropInner(ctx: DatapathContext, slot: number, off: number, len: number, reason: number, peer: Peer): void {
  const io = ctx.io;
  if (io.capturing) io.captureDrop(reason, off, len, peer, null, 0);
  drop(ctx, slot, reason, peer);
}

/** Exact size of a handshake message type, 0 for others. */
function handshakeSize(type: number): number {
  if (type === MessageType.Initiation) return MESSAGE_INITIATION_SIZE;
  if (type === MessageType.Response) return MESSAGE_RESPONSE_SIZE;
  if (type === MessageType.CookieReply) return MESSAGE_COOKIE_REPLY_SIZE;
  return 0;
}

/**
 * Processes every datagram of a UDP batch (which it leaves empty): transport data toward
 * the host, handshakes to the handshake queue, everything else counted and released.
 */
export function receiveUdpBatch(ctx: DatapathContext, batch: PacketBatch): void {
  const slab = ctx.pool.slab;
  const now = ctx.batchNow;
  const rx = ctx.rx;
  const open = rx.batch;
  const n = batch.count;
  for (let i = 0; i < n; i++) {
    const slot = batch.slots[i];
    const off = batch.offsets[i];
    const len = batch.lengths[i];
    if (len < 4) {
      dropDatagram(ctx, batch, i, DropReason.WgBadMessageLength);
      continue;
    }
    const type = slab[off];
    if ((slab[off + 1] | slab[off + 2] | slab[off + 3]) !== 0 || type < MessageType.Initiation || type > MessageType.Transport) {
      dropDatagram(ctx, batch, i, DropReason.WgUnknownMessageType);
      continue;
    }
    if (type !== MessageType.Transport) {
      if (len !== handshakeSize(type)) dropDatagram(ctx, batch, i, DropReason.WgBadMessageLength);
      else if (!ctx.handshakeQueue.push(slot, off, len, type, batch.endpoints, i * ENDPOINT_STRIDE)) dropDatagram(ctx, batch, i, DropReason.WgHandshakeQueueFull);
      continue;
    }
    if (len < MESSAGE_TRANSPORT_MIN_SIZE) {
      dropDatagram(ctx, batch, i, DropReason.WgBadMessageLength);
      continue;
    }
    const entry = ctx.indexTable.lookup(readU32LE(slab, off + TRANSPORT_OFFSET_RECEIVER));
    const kp = entry === undefined ? null : entry.keypair;
    if (kp === null) {
      dropDatagram(ctx, batch, i, DropReason.WgUnknownIndex);
      continue;
    }
    if (kp.receiveSlot < 0 || now - kp.createdAt > REJECT_AFTER_TIME_MS) {
      dropDatagram(ctx, batch, i, DropReason.WgKeyExpired, kp.peer);
      continue;
    }
    // Counters at or past REJECT_AFTER_MESSAGES are never valid; skip the AEAD work.
    if (readU32LE(slab, off + TRANSPORT_OFFSET_COUNTER + 4) === REJECT_AFTER_MESSAGES_HI && readU32LE(slab, off + TRANSPORT_OFFSET_COUNTER) >= REJECT_AFTER_MESSAGES_LO) {
      dropDatagram(ctx, batch, i, DropReason.WgKeyExpired);
      continue;
    }
    const j = open.push(slot, off + MESSAGE_TRANSPORT_HEADER_SIZE, len - MESSAGE_TRANSPORT_HEADER_SIZE);
    rx.keyIndex[j] = kp.receiveSlot;
    rx.keypairs[j] = kp;
    rx.source[j] = i;
  }
  if (open.count > 0) openAndDeliver(ctx, batch, now);
  batch.count = 0;
}

/**
 * Opens the batch, then delivers each packet that authenticates and is not a replay. The
 * per-peer bookkeeping runs once per run of consecutive packets under one keypair
 * (wireguard-go 7c20311): the endpoint from the run's last packet, timers, rekey check,
 * byte counter. Only a keypair's confirmation is per packet (its first), with the
 * endpoint taken from that packet first, so staged packets leave toward it.
 */
function openAndDeliver(ctx: DatapathContext, batch: PacketBatch, now: number): void {
  const slab = ctx.pool.slab;
  const rx = ctx.rx;
  const open = rx.batch;
  const m = open.count;
  ctx.aead.open(slab, open.offsets, open.lengths, ctx.keyTable.keys, rx.keyIndex, m, rx.results);
  const run = rx.run;
  run.keypair = null;
  for (let j = 0; j < m; j++) {
    const kp = rx.keypairs[j] as Keypair;
    rx.keypairs[j] = null;
    const slot = open.slots[j];
    const off = open.offsets[j];
    const plen = rx.results[j];
    if (plen < 0) {
      drop(ctx, slot, DropReason.WgDecryptFailed, kp.peer);
      continue;
    }
    if (!kp.replay.validate(readU32LE(slab, off - 8), readU32LE(slab, off - 4))) {
      drop(ctx, slot, DropReason.WgReplayed, kp.peer);
      continue;
    }
    const peer = kp.peer;
    if (kp !== run.keypair) {
      if (run.keypair !== null) runReceived(ctx, run, batch.endpoints, now);
      run.start(kp);
    }
    const epOff = rx.source[j] * ENDPOINT_STRIDE;
    run.note(epOff, plen);
    if (kp === peer.keypairs.next) {
      updateEndpoint(ctx, peer, batch.endpoints, epOff);
      ctx.confirmKeypair(peer, kp, now);
    }
    if (plen === 0) {
      // A keepalive: it has done its work (timers) by arriving.
      ctx.pool.release(slot);
      continue;
    }
    const total = innerPacketLength(slab, off, plen);
    if (total < 0) {
      dropInner(ctx, slot, off, plen, -total, peer);
      continue;
    }
    const owner = slab[off] >>> 4 === 6 ? ctx.allowedIps.lookupV6(slab, off + 8) : ctx.allowedIps.lookupV4At(slab, off + 12);
    if (owner !== peer) {
      dropInner(ctx, slot, off, total, DropReason.WgSourceNotAllowed, peer);
      continue;
    }
    ctx.io.deliver(slot, off, total, peer);
  }
  if (run.keypair !== null) runReceived(ctx, run, batch.endpoints, now);
  run.keypair = null;
  open.count = 0;
}

/** Roaming and sticky source: the whole record, the remote and the local address it reached us on. */
function updateEndpoint(ctx: DatapathContext, peer: Peer, endpoints: Uint8Array, epOff: number): void {
  if (endpointRecordEquals(peer.endpoint, 0, endpoints, epOff)) return;
  const roamed = !endpointEquals(peer.endpoint, 0, endpoints, epOff);
  for (let k = 0; k < ENDPOINT_STRIDE; k++) peer.endpoint[k] = endpoints[epOff + k];
  if (roamed) ctx.endpointChanged(peer);
}

/**
 * What a run of authenticated packets does, once: endpoint, rekey check, timers, counters.
 * dataReceived twice when the run held two data packets or more: its second call is what
 * any further one does (needAnotherKeepalive), so the timers end as per-packet calls leave them.
 */
function runReceived(ctx: DatapathContext, run: RxRun, endpoints: Uint8Array, now: number): void {
  const peer = (run.keypair as Keypair).peer;
  updateEndpoint(ctx, peer, endpoints, run.lastEndpoint);
  keepKeyFreshReceiving(ctx, peer, now);
  const t = peer.timers;
  t.anyAuthenticatedPacketTraversal(now, peer.persistentKeepaliveInterval);
  t.anyAuthenticatedPacketReceived();
  peer.rxBytes += run.bytes;
  if (run.dataPackets > 0) t.dataReceived(now);
  if (run.dataPackets > 1) t.dataReceived(now);
}

/**
 * Length of the IP packet at the start of a plaintext (the rest is padding), or a negated
 * drop reason: the version must be 4 or 6 and the header's length must fit.
 */
export function innerPacketLength(slab: Uint8Array, off: number, plen: number): number {
  const version = slab[off] >>> 4;
  if (version === 4) {
    if (plen < 20) return -DropReason.Truncated;
    const total = (slab[off + 2] << 8) | slab[off + 3];
    if (total > plen || total < 20) return -DropReason.BadTotalLength;
    return total;
  }
  if (version === 6) {
    if (plen < 40) return -DropReason.Truncated;
    const total = 40 + ((slab[off + 4] << 8) | slab[off + 5]);
    if (total > plen) return -DropReason.BadTotalLength;
    return total;
  }
  return -DropReason.BadVersion;
}

/**
 * An initiator whose session nears REJECT_AFTER_TIME rekeys once, on the receive side too,
 * in case it has nothing to send (wireguard-go keepKeyFreshReceiving).
 */
function keepKeyFreshReceiving(ctx: DatapathContext, peer: Peer, now: number): void {
  const t = peer.timers;
  if (t.sentLastMinuteHandshake) return;
  const kp = peer.keypairs.current;
  if (kp !== null && kp.isInitiator && now - kp.createdAt > REJECT_AFTER_TIME_MS - KEEPALIVE_TIMEOUT_MS - REKEY_TIMEOUT_MS) {
    t.sentLastMinuteHandshake = true;
    ctx.sendHandshakeInitiation(peer, false, now);
  }
}
