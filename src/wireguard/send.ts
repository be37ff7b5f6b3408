/**
 * The send half of the datapath (wireguard-go send.go), run once per batch: TUN packets are
 * routed by destination (cryptokey routing), padded, given a transport header in the
 * headroom and queued in one out batch; flushTx() then seals the whole batch with one AEAD
 * call and sends it with one UDP call. Packets without a usable session wait in the peer's
 * staged queue while a handshake runs. Nothing here allocates per packet.
 */
import { PacketBatch } from '../buffer/batch.js';
import { DropReason } from '../stats/drop-reasons.js';
import { AEAD_TAG_SIZE, MESSAGE_TRANSPORT_HEADER_SIZE, MESSAGE_TRANSPORT_MIN_SIZE, MessageType, PADDING_MULTIPLE, REKEY_AFTER_MESSAGES, REKEY_AFTER_TIME_MS } from './constants.js';
import type { DatapathContext } from './datapath-context.js';
import { type Keypair, keypairUsableForSend } from './keypair.js';
import { writeU32LE } from './messages.js';
import type { Peer } from './peer.js';

const TWO_32 = 0x1_0000_0000;

/** The out batch and its per-entry key slots and peers, allocated once. */
export class TxQueue {
  readonly batch: PacketBatch;
  readonly keyIndex: Int32Array;
  readonly peers: Array<Peer | null>;

  constructor(capacity: number) {
    this.batch = new PacketBatch(capacity);
    this.keyIndex = new Int32Array(capacity);
    this.peers = new Array<Peer | null>(capacity).fill(null);
  }
}

/** Zero bytes to append so the plaintext is a multiple of 16, not past the MTU (wireguard-go). */
export function calculatePaddingSize(size: number, mtu: number): number {
  if (mtu === 0) return ((size + PADDING_MULTIPLE - 1) & ~(PADDING_MULTIPLE - 1)) - size;
  let last = size;
  if (last > mtu) last %= mtu;
  let padded = (last + PADDING_MULTIPLE - 1) & ~(PADDING_MULTIPLE - 1);
  if (padded > mtu) padded = mtu;
  return padded - last;
}

function drop(ctx: DatapathContext, slot: number, reason: number): void {
  ctx.pool.release(slot);
  ctx.drops.count(reason);
}

/** Routes and queues every packet of a TUN batch, then flushes. Leaves the batch empty. */
export function sendTunBatch(ctx: DatapathContext, batch: PacketBatch): void {
  const slab = ctx.pool.slab;
  const now = ctx.batchNow;
  const n = batch.count;
  for (let i = 0; i < n; i++) {
    const slot = batch.slots[i];
    const off = batch.offsets[i];
    const len = batch.lengths[i];
    const version = len > 0 ? slab[off] >>> 4 : 0;
    let peer: Peer | undefined;
    if (version === 4 && len >= 20) peer = ctx.allowedIps.lookupV4At(slab, off + 16);
    else if (version === 6 && len >= 40) peer = ctx.allowedIps.lookupV6(slab, off + 24);
    else {
      drop(ctx, slot, version === 4 || version === 6 || len === 0 ? DropReason.Truncated : DropReason.BadVersion);
      continue;
    }
    if (peer === undefined) {
      drop(ctx, slot, DropReason.WgNoRoute);
      continue;
    }
    if (peer.endpoint[0] === 0) {
      drop(ctx, slot, DropReason.WgNoEndpoint);
      continue;
    }
    const kp = peer.keypairs.current;
    if (peer.staged.count === 0 && kp !== null && keypairUsableForSend(kp, now)) {
      queueTransport(ctx, peer, kp, slot, off, len);
    } else {
      stagePacket(ctx, peer, slot, off, len);
      sendStagedPackets(ctx, peer, now);
    }
  }
  batch.count = 0;
  flushTx(ctx);
}

/**
 * Pads, writes the transport header in front of the packet and appends it to the out
 * batch (flushing first when full). The slot now belongs to the out batch.
 */
export function queueTransport(ctx: DatapathContext, peer: Peer, kp: Keypair, slot: number, off: number, len: number): void {
  const pool = ctx.pool;
  if (peer.endpoint[0] === 0) {
    drop(ctx, slot, DropReason.WgNoEndpoint);
    return;
  }
  const padded = len + calculatePaddingSize(len, ctx.mtu);
  const base = slot * pool.slotSize;
  const h = off - MESSAGE_TRANSPORT_HEADER_SIZE;
  if (h < base || off + padded + AEAD_TAG_SIZE > base + pool.slotSize) {
    drop(ctx, slot, DropReason.TooBig);
    return;
  }
  const slab = pool.slab;
  if (padded !== len) slab.fill(0, off + len, off + padded);
  const counter = kp.sendCounter;
  kp.sendCounter = counter + 1;
  const lo = counter >>> 0;
  slab[h] = MessageType.Transport;
  slab[h + 1] = 0;
  slab[h + 2] = 0;
  slab[h + 3] = 0;
  writeU32LE(slab, h + 4, kp.remoteIndex);
  writeU32LE(slab, h + 8, lo);
  writeU32LE(slab, h + 12, (counter - lo) / TWO_32);
  const tx = ctx.tx;
  if (tx.batch.count === tx.batch.capacity) flushTx(ctx);
  const i = tx.batch.push(slot, off, padded);
  tx.keyIndex[i] = kp.sendSlot;
  tx.peers[i] = peer;
  tx.batch.setEndpoint(i, peer.endpoint, 0);
}

/** Holds a packet until the peer has a session; the oldest makes room when full. */
export function stagePacket(ctx: DatapathContext, peer: Peer, slot: number, off: number, len: number): void {
  const evicted = peer.staged.push(slot, off, len);
  if (evicted >= 0) drop(ctx, evicted, DropReason.WgStagedQueueFull);
}

/**
 * Sends the staged packets under the current keypair, or asks for a handshake when there
 * is none usable (wireguard-go SendStagedPackets).
 */
export function sendStagedPackets(ctx: DatapathContext, peer: Peer, now: number): void {
  const q = peer.staged;
  if (q.count === 0 || !ctx.up) return;
  const kp = peer.keypairs.current;
  if (kp === null || !keypairUsableForSend(kp, now)) {
    ctx.sendHandshakeInitiation(peer, false, now);
    return;
  }
  while (q.count > 0) {
    const slot = q.peekSlot();
    const off = q.peekOffset();
    const len = q.peekLength();
    q.pop();
    queueTransport(ctx, peer, kp, slot, off, len);
  }
}

/** Queues an empty transport message unless packets are already waiting (wireguard-go SendKeepalive). */
export function sendKeepalive(ctx: DatapathContext, peer: Peer, now: number): void {
  if (!ctx.up) return;
  if (peer.staged.count === 0) {
    const slot = ctx.pool.acquire();
    if (slot < 0) ctx.drops.count(DropReason.PoolExhausted);
    else peer.staged.push(slot, ctx.pool.dataOffset(slot), 0);
  }
  sendStagedPackets(ctx, peer, now);
}

/** Rekeys an initiator's session that is old or worn (wireguard-go keepKeyFreshSending). */
export function keepKeyFreshSending(ctx: DatapathContext, peer: Peer, now: number): void {
  const kp = peer.keypairs.current;
  if (kp === null) return;
  if (kp.sendCounter > REKEY_AFTER_MESSAGES || (kp.isInitiator && now - kp.createdAt > REKEY_AFTER_TIME_MS)) {
    ctx.sendHandshakeInitiation(peer, false, now);
  }
}

/**
 * Seals the out batch in one AEAD call, turns each entry into its whole datagram
 * (header + ciphertext + tag), sends them in one call, releases the slots and runs the
 * per-peer bookkeeping once per run of consecutive packets to one peer (a batch is usually
 * one or a few runs): transfer counter, timers, rekey check.
 */
export function flushTx(ctx: DatapathContext): void {
  const tx = ctx.tx;
  const b = tx.batch;
  const n = b.count;
  if (n === 0) return;
  const pool = ctx.pool;
  ctx.aead.seal(pool.slab, b.offsets, b.lengths, ctx.keyTable.keys, tx.keyIndex, n);
  for (let i = 0; i < n; i++) {
    b.offsets[i] -= MESSAGE_TRANSPORT_HEADER_SIZE;
    b.lengths[i] += MESSAGE_TRANSPORT_HEADER_SIZE + AEAD_TAG_SIZE;
  }
  const sent = ctx.udp.sendBatch(b);
  if (sent < n) ctx.drops.count(DropReason.UdpSendFailed, n - sent);
  for (let i = 0; i < n; i++) pool.release(b.slots[i]);
  b.count = 0;
  const now = ctx.batchNow;
  let run = tx.peers[0] as Peer;
  let bytes = 0;
  let data = false;
  for (let i = 0; i < n; i++) {
    const peer = tx.peers[i] as Peer;
    tx.peers[i] = null;
    if (peer !== run) {
      sentToPeer(ctx, run, bytes, data, now);
      run = peer;
      bytes = 0;
      data = false;
    }
    const len = b.lengths[i];
    if (i < sent) bytes += len;
    if (len !== MESSAGE_TRANSPORT_MIN_SIZE) data = true;
  }
  sentToPeer(ctx, run, bytes, data, now);
}

/** wireguard-go's sequential sender after a send: timers, then keepKeyFreshSending. */
function sentToPeer(ctx: DatapathContext, peer: Peer, bytes: number, data: boolean, now: number): void {
  peer.txBytes += bytes;
  const t = peer.timers;
  t.anyAuthenticatedPacketTraversal(now, peer.persistentKeepaliveInterval);
  t.anyAuthenticatedPacketSent();
  if (data && t.newHandshakeAt === Infinity) t.dataSent(now, ctx.jitter());
  keepKeyFreshSending(ctx, peer, now);
}
