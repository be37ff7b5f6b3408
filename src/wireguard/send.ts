/**
 * The send half of the WireGuard plane (wireguard-go send.go), run once per batch of inner
 * packets the datapath routed to WireGuard (the route's reference is the peer): padded,
 * given a transport header in the headroom and queued in the datapath's out batch;
 * sealPrepared() then seals the whole batch with one AEAD call just before the datapath
 * sends it, and sentToPeers() does the per-peer bookkeeping from the per-entry results.
 * Packets without a usable session wait in the peer's staged queue while a handshake
 * runs. Nothing here allocates per packet.
 */
import type { PacketBatch } from '../buffer/batch.js';
import type { OutBatch } from '../datapath/out-batch.js';
import { clearEndpointLocal, ENDPOINT_LOCAL_OFFSET, ENDPOINT_STRIDE, endpointEquals, hasEndpointLocal } from '../io/endpoint.js';
import { DropReason } from '../stats/drop-reasons.js';
import {
  AEAD_TAG_SIZE,
  MESSAGE_TRANSPORT_HEADER_SIZE,
  MESSAGE_TRANSPORT_MIN_SIZE,
  MessageType,
  PADDING_MULTIPLE,
  REKEY_AFTER_MESSAGES,
  REKEY_AFTER_TIME_MS,
  TRANSPORT_OFFSET_COUNTER,
  TRANSPORT_OFFSET_RECEIVER,
} from './constants.js';
import type { DatapathContext } from './datapath-context.js';
import { type Keypair, keypairUsableForSend } from './keypair.js';
import { writeU32LE } from './messages.js';
import type { Peer } from './peer.js';

const TWO_32 = 0x1_0000_0000;
const EAGAIN = -11;
/** Out-batch tag of a datagram that is whole already (handshake, cookie reply). */
export const TAG_WHOLE = -1;

/** The entries of an out batch to seal, gathered once per flush (transport messages only). */
export class SealScratch {
  readonly offsets: Int32Array;
  readonly lengths: Int32Array;
  readonly keyIndex: Int32Array;
  readonly entry: Int32Array;

  constructor(capacity: number) {
    this.offsets = new Int32Array(capacity);
    this.lengths = new Int32Array(capacity);
    this.keyIndex = new Int32Array(capacity);
    this.entry = new Int32Array(capacity);
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

function drop(ctx: DatapathContext, peer: Peer | null, slot: number, reason: number): void {
  ctx.pool.release(slot);
  ctx.dropFor(peer, reason);
}

/** Drops an inner packet on its way out, shown to a running capture first. */
function dropInner(ctx: DatapathContext, peer: Peer, slot: number, off: number, len: number, reason: number): void {
  const io = ctx.io;
  if (io.capturing) io.captureDrop(reason, off, len, peer, null, 0);
  drop(ctx, peer, slot, reason);
}

/** Queues every packet of a routed batch for its peer (refs[i]). Leaves the batch empty. */
export function encapsulateBatch(ctx: DatapathContext, batch: PacketBatch, refs: readonly unknown[]): void {
  const now = ctx.batchNow;
  const n = batch.count;
  for (let i = 0; i < n; i++) {
    const slot = batch.slots[i];
    const off = batch.offsets[i];
    const len = batch.lengths[i];
    const peer = refs[i] as Peer;
    if (peer.endpoint[0] === 0) {
      dropInner(ctx, peer, slot, off, len, DropReason.WgNoEndpoint);
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
}

/**
 * Pads, writes the transport header in front of the packet and appends it to the out
 * batch (the datapath sends it first when full). The slot now belongs to the out batch.
 */
function queueTransport(ctx: DatapathContext, peer: Peer, kp: Keypair, slot: number, off: number, len: number): void {
  const pool = ctx.pool;
  if (peer.endpoint[0] === 0) {
    dropInner(ctx, peer, slot, off, len, DropReason.WgNoEndpoint);
    return;
  }
  const padded = len + calculatePaddingSize(len, ctx.mtu);
  const h = off - MESSAGE_TRANSPORT_HEADER_SIZE;
  if (h < pool.slotBase(slot) || off + padded + AEAD_TAG_SIZE > pool.slotEnd(slot)) {
    dropInner(ctx, peer, slot, off, len, DropReason.TooBig);
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
  writeU32LE(slab, h + TRANSPORT_OFFSET_RECEIVER, kp.remoteIndex);
  writeU32LE(slab, h + TRANSPORT_OFFSET_COUNTER, lo);
  writeU32LE(slab, h + TRANSPORT_OFFSET_COUNTER + 4, (counter - lo) / TWO_32);
  ctx.io.queue(slot, off, padded, peer.endpoint, 0, peer, kp.sendSlot);
}

/** Holds a packet until the peer has a session; the oldest makes room when full. */
function stagePacket(ctx: DatapathContext, peer: Peer, slot: number, off: number, len: number): void {
  const evicted = peer.staged.push(slot, off, len);
  if (evicted >= 0) drop(ctx, peer, evicted, DropReason.WgStagedQueueFull);
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
    if (slot < 0) ctx.dropFor(peer, DropReason.PoolExhausted);
    else peer.staged.push(slot, ctx.pool.dataOffset(slot), 0);
  }
  sendStagedPackets(ctx, peer, now);
}

/** Rekeys an initiator's session that is old or worn (wireguard-go keepKeyFreshSending). */
function keepKeyFreshSending(ctx: DatapathContext, peer: Peer, now: number): void {
  const kp = peer.keypairs.current;
  if (kp === null) return;
  if (kp.sendCounter > REKEY_AFTER_MESSAGES || (kp.isInitiator && now - kp.createdAt > REKEY_AFTER_TIME_MS)) {
    ctx.sendHandshakeInitiation(peer, false, now);
  }
}

/**
 * Seals the transport messages among out-batch entries [from, to) in one AEAD call and
 * turns each into its whole datagram (header + ciphertext + tag). Handshake messages
 * (TAG_WHOLE) are left as they are.
 */
export function sealPrepared(ctx: DatapathContext, scratch: SealScratch, out: OutBatch, from: number, to: number): void {
  let m = 0;
  for (let i = from; i < to; i++) {
    const key = out.tags[i];
    if (key === TAG_WHOLE) continue;
    scratch.offsets[m] = out.offsets[i];
    scratch.lengths[m] = out.lengths[i];
    scratch.keyIndex[m] = key;
    scratch.entry[m] = i;
    m++;
  }
  if (m === 0) return;
  ctx.aead.seal(ctx.pool.slab, scratch.offsets, scratch.lengths, ctx.keyTable.keys, scratch.keyIndex, m);
  for (let j = 0; j < m; j++) {
    const i = scratch.entry[j];
    out.offsets[i] -= MESSAGE_TRANSPORT_HEADER_SIZE;
    out.lengths[i] += MESSAGE_TRANSPORT_HEADER_SIZE + AEAD_TAG_SIZE;
  }
}

/**
 * After a send: transfer counters from the per-entry results, then the per-peer
 * bookkeeping once per run of consecutive transport messages to one peer (a batch is
 * usually one or a few runs): timers, rekey check. Entries that met -EAGAIN are still
 * queued and are counted when they go out.
 */
export function sentToPeers(ctx: DatapathContext, out: OutBatch, count: number, results: Int32Array): void {
  const now = ctx.batchNow;
  let run: Peer | null = null;
  let data = false;
  for (let i = 0; i < count; i++) {
    const r = results[i];
    if (r === EAGAIN) continue;
    const peer = out.refs[i] as Peer | null;
    if (peer === null) continue;
    const len = out.lengths[i];
    if (r === 0) {
      peer.txBytes += len;
      forgetRefusedSource(peer, out.endpoints, i * ENDPOINT_STRIDE);
    }
    if (out.tags[i] === TAG_WHOLE) continue;
    if (peer !== run) {
      if (run !== null) transportSent(ctx, run, data, now);
      run = peer;
      data = false;
    }
    if (len !== MESSAGE_TRANSPORT_MIN_SIZE) data = true;
  }
  if (run !== null) transportSent(ctx, run, data, now);
}

/**
 * The socket clears an entry's local address when the kernel refused to send from it
 * (the address went away, the route changed) and sends from its default instead; the
 * peer then forgets it too, until its next packet shows where it reaches us now.
 */
function forgetRefusedSource(peer: Peer, endpoints: Uint8Array, off: number): void {
  if (endpoints[off + ENDPOINT_LOCAL_OFFSET] !== 0 || !hasEndpointLocal(peer.endpoint, 0)) return;
  if (endpointEquals(peer.endpoint, 0, endpoints, off)) clearEndpointLocal(peer.endpoint, 0);
}

/** wireguard-go's sequential sender after a send: timers, then keepKeyFreshSending. */
function transportSent(ctx: DatapathContext, peer: Peer, data: boolean, now: number): void {
  const t = peer.timers;
  t.anyAuthenticatedPacketTraversal(now, peer.persistentKeepaliveInterval);
  t.anyAuthenticatedPacketSent();
  if (data && t.newHandshakeAt === Infinity) t.dataSent(now, ctx.jitter());
  keepKeyFreshSending(ctx, peer, now);
}
