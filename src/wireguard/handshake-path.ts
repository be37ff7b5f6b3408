/**
 * The handshake side of the device (wireguard-go receive.go RoutineHandshake, send.go
 * SendHandshake*, noise-protocol.go BeginSymmetricSession): control path, allowed to
 * allocate. Messages come from the handshake queue with their slot and source endpoint;
 * replies are built in fresh pool slots and queued in the datapath's out batch, sent with the data.
 */
import { ENDPOINT_REMOTE_SIZE, ENDPOINT_STRIDE, endpointEquals } from '../io/endpoint.js';
import { DropReason } from '../stats/drop-reasons.js';
import { MAC_SIZE, MESSAGE_COOKIE_REPLY_SIZE, MESSAGE_INITIATION_SIZE, MESSAGE_RESPONSE_SIZE, MessageType, REKEY_TIMEOUT_MS, RESPONSE_OFFSET_RECEIVER, COOKIE_REPLY_OFFSET_RECEIVER } from './constants.js';
import type { CookieChecker } from './cookie.js';
import type { CookieReplyLimiter } from './cookie-reply-limiter.js';
import type { DatapathContext } from './datapath-context.js';
import { Keypair } from './keypair.js';
import { readU32LE } from './messages.js';
import type { StaticIdentity } from './handshake.js';
import { ConsumedInitiation, consumeInitiation, consumeResponse, createInitiation, createResponse, deriveKeypair, type HandshakeLookup } from './noise.js';
import type { Peer } from './peer.js';
import type { RateLimiter } from './ratelimiter.js';
import { sendKeepalive, TAG_WHOLE } from './send.js';

/** What the handshake path needs of the device beyond the datapath's view. */
export interface HandshakeContext extends DatapathContext {
  readonly identity: StaticIdentity | null;
  readonly cookieChecker: CookieChecker;
  readonly rateLimiter: RateLimiter;
  readonly cookieReplyLimiter: CookieReplyLimiter;
  /** The device's monotonic clock (ms): the time budget reads it after each message. */
  now(): number;
  wallNow(): number;
  findPeerByStatic(remoteStatic: Uint8Array): Peer | undefined;
  /** findPeerByStatic(key)?.handshake, bound once (consumeInitiation's lookup). */
  readonly lookupHandshake: HandshakeLookup;
  /** wireguard-go IsUnderLoad (queue at least 1/8 full now, or so within the last second), or the time budget overrun (device.ts poll). */
  isUnderLoad(now: number): boolean;
  deleteKeypair(kp: Keypair): void;
  /** A handshake completed (events, logs); lastHandshakeWallMs is already set. */
  handshakeCompleted(peer: Peer, initiator: boolean): void;
  /**
   * Told of each new local ephemeral key, before the message carrying it is queued (a
   * capture with --keys, FERRY_KEYLOG_FILE: docs/capture.md); null when nobody asked.
   */
  readonly keyLog: ((peer: Peer) => void) | null;
}

/** consumeInitiation's output; handshakes are processed one at a time. */
const consumed = new ConsumedInitiation();

/**
 * Processes queued handshake messages, oldest first, until `budget` are done or ctx.now()
 * (read after each one) reaches `deadline`; returns how many. The rest wait for the next call.
 */
export function processHandshakeQueue(ctx: HandshakeContext, budget: number, deadline: number, now: number): number {
  const q = ctx.handshakeQueue;
  let done = 0;
  while (done < budget && (done === 0 || ctx.now() < deadline)) {
    const i = q.shift();
    if (i < 0) break;
    const slot = q.slots[i];
    try {
      processHandshakeMessage(ctx, q.types[i], q.offsets[i], q.lengths[i], q.endpoints, i * ENDPOINT_STRIDE, now);
    } finally {
      ctx.pool.release(slot);
    }
    done++;
  }
  return done;
}

function processHandshakeMessage(ctx: HandshakeContext, type: number, off: number, len: number, eps: Uint8Array, epOff: number, now: number): void {
  const slab = ctx.pool.slab;
  if (type === MessageType.CookieReply) {
    const entry = ctx.indexTable.lookup(readU32LE(slab, off + COOKIE_REPLY_OFFSET_RECEIVER));
    if (entry === undefined) return void ctx.drops.count(DropReason.WgUnknownIndex);
    const r = entry.peer.cookieGenerator.consumeReply(slab, off, len, now);
    if (r !== DropReason.None) ctx.drops.count(r);
    return;
  }
  const identity = ctx.identity;
  if (identity === null) return void ctx.drops.count(DropReason.WgHandshakeFailed);
  // Everything up to the DH is cheap (BLAKE2s MACs, a table probe) and decided first.
  const underLoad = ctx.isUnderLoad(now);
  const noMac2 = isZero(slab, off + len - MAC_SIZE, MAC_SIZE);
  // Under load, a message without mac2 can earn nothing but a cookie reply: when its
  // source has had its share of those, it goes before its two BLAKE2s MACs are computed,
  // the table probe being the cheapest check (a flood is mostly such messages). Only a
  // look: the share is spent after mac1, so junk from someone without the key can neither
  // use up a (spoofed) source's replies nor fill the limiter's table.
  if (underLoad && noMac2 && !ctx.cookieReplyLimiter.wouldAllow(eps, epOff, now)) return void ctx.drops.count(DropReason.WgCookieReplyLimited);
  if (!ctx.cookieChecker.checkMac1(slab, off, len)) return void ctx.drops.count(DropReason.WgBadMac1);
  if (underLoad && (noMac2 || !ctx.cookieChecker.checkMac2(slab, off, len, eps, epOff, ENDPOINT_REMOTE_SIZE, now))) {
    if (!ctx.cookieReplyLimiter.allow(eps, epOff, now)) return void ctx.drops.count(DropReason.WgCookieReplyLimited);
    sendCookieReply(ctx, off, len, eps, epOff, now);
    // No mac2 at all is a peer that has no cookie yet (normal under load); a wrong one is not.
    return void ctx.drops.count(noMac2 ? DropReason.WgCookieRequired : DropReason.WgBadMac2);
  }
  // Every message that reaches a DH passes the per-source limiter, under load or not.
  // wireguard-go (and the kernel) limit only under load, with a valid mac2: their DHs run
  // on other cores than the data. Ours run on the event loop that carries the data, and
  // until load is detected a source could spend it on DHs; 20 a second with bursts of 5
  // is far above what a real peer sends (one initiation per REKEY_TIMEOUT, 5 s).
  if (!ctx.rateLimiter.allow(eps, epOff, now)) return void ctx.drops.count(DropReason.WgRateLimited);
  if (type === MessageType.Initiation) consumeInitiationMessage(ctx, identity, off, len, eps, epOff, now);
  else consumeResponseMessage(ctx, off, len, eps, epOff, now);
}

/** The peer's endpoint becomes the packet's source, and its local address the one to reply from. */
function setEndpointFromPacket(ctx: HandshakeContext, peer: Peer, eps: Uint8Array, epOff: number): void {
  const roamed = !endpointEquals(peer.endpoint, 0, eps, epOff);
  peer.endpoint.set(eps.subarray(epOff, epOff + ENDPOINT_STRIDE));
  if (roamed) ctx.endpointChanged(peer);
}

function consumeInitiationMessage(ctx: HandshakeContext, identity: StaticIdentity, off: number, len: number, eps: Uint8Array, epOff: number, now: number): void {
  const r = consumeInitiation(identity, ctx.pool.slab, off, len, now, ctx.lookupHandshake, consumed);
  if (r !== DropReason.None) return void ctx.drops.count(r);
  const peer = ctx.findPeerByStatic(consumed.remoteStatic);
  if (peer === undefined || consumed.handshake !== peer.handshake) return void ctx.drops.count(DropReason.WgHandshakeFailed);
  peer.timers.anyAuthenticatedPacketTraversal(now, peer.persistentKeepaliveInterval);
  peer.timers.anyAuthenticatedPacketReceived();
  setEndpointFromPacket(ctx, peer, eps, epOff);
  peer.rxBytes += len;
  peer.log?.debug({}, 'received handshake initiation');
  sendHandshakeResponse(ctx, peer, now);
}

function consumeResponseMessage(ctx: HandshakeContext, off: number, len: number, eps: Uint8Array, epOff: number, now: number): void {
  const slab = ctx.pool.slab;
  const entry = ctx.indexTable.lookup(readU32LE(slab, off + RESPONSE_OFFSET_RECEIVER));
  if (entry === undefined || entry.keypair !== null) return void ctx.drops.count(DropReason.WgUnknownIndex);
  const peer = entry.peer;
  const r = consumeResponse(peer.handshake, slab, off, len);
  if (r !== DropReason.None) return void ctx.drops.count(r);
  setEndpointFromPacket(ctx, peer, eps, epOff);
  peer.timers.anyAuthenticatedPacketTraversal(now, peer.persistentKeepaliveInterval);
  peer.timers.anyAuthenticatedPacketReceived();
  peer.rxBytes += len;
  if (!beginSymmetricSession(ctx, peer, now)) return;
  peer.timers.sessionDerived(now);
  peer.timers.handshakeComplete();
  peer.lastHandshakeWallMs = ctx.wallNow();
  ctx.handshakeCompleted(peer, true);
  // Confirms the session to the responder: staged packets, or an empty one.
  sendKeepalive(ctx, peer, now);
}

/** Frees the index of the handshake in progress (a new message replaces it). */
export function removeHandshakeIndex(ctx: DatapathContext, peer: Peer): void {
  const hs = peer.handshake;
  if (hs.localIndex !== 0) ctx.indexTable.remove(hs.localIndex, peer.handshakeEntry);
  hs.localIndex = 0;
}

/**
 * An initiation to peer (wireguard-go SendHandshakeInitiation): at most one per
 * REKEY_TIMEOUT; a non-retry resets the attempt counter.
 */
export function sendHandshakeInitiation(ctx: HandshakeContext, peer: Peer, isRetry: boolean, now: number): void {
  const t = peer.timers;
  if (!isRetry) t.handshakeAttempts = 0;
  if (!ctx.up || now - t.lastSentHandshake < REKEY_TIMEOUT_MS) return;
  t.lastSentHandshake = now;
  if (ctx.identity === null) return void ctx.drops.count(DropReason.WgHandshakeFailed);
  const taken = reserveHandshake(ctx, peer);
  if (taken === null) return;
  const { index, slot } = taken;
  const pool = ctx.pool;
  const off = pool.dataOffset(slot);
  const r = createInitiation(peer.handshake, ctx.wallNow(), index, pool.slab, off);
  if (r !== DropReason.None) {
    pool.release(slot);
    ctx.indexTable.remove(index, peer.handshakeEntry);
    return void ctx.drops.count(r);
  }
  if (ctx.keyLog !== null) ctx.keyLog(peer);
  peer.cookieGenerator.addMacs(pool.slab, off, MESSAGE_INITIATION_SIZE, now);
  t.anyAuthenticatedPacketTraversal(now, peer.persistentKeepaliveInterval);
  t.anyAuthenticatedPacketSent();
  peer.log?.debug({ attempt: t.handshakeAttempts + 1 }, 'sending handshake initiation');
  sendDatagram(ctx, slot, off, MESSAGE_INITIATION_SIZE, peer.endpoint, 0, peer);
  t.handshakeInitiated(now, ctx.jitter());
}

/**
 * A fresh index for peer's handshake (the old one freed) and a pool slot for its message,
 * or null with the drop counted: what sending an initiation and a response both need.
 */
function reserveHandshake(ctx: HandshakeContext, peer: Peer): { index: number; slot: number } | null {
  removeHandshakeIndex(ctx, peer);
  const index = ctx.indexTable.insert(peer.handshakeEntry);
  if (index === 0) {
    ctx.drops.count(DropReason.WgHandshakeFailed);
    return null;
  }
  const slot = ctx.pool.acquire();
  if (slot < 0) {
    ctx.indexTable.remove(index, peer.handshakeEntry);
    ctx.drops.count(DropReason.PoolExhausted);
    return null;
  }
  return { index, slot };
}

/** The response to a consumed initiation; derives the responder's keypair (it becomes `next`). */
function sendHandshakeResponse(ctx: HandshakeContext, peer: Peer, now: number): void {
  const t = peer.timers;
  t.lastSentHandshake = now;
  const taken = reserveHandshake(ctx, peer);
  if (taken === null) return;
  const { index, slot } = taken;
  const pool = ctx.pool;
  const off = pool.dataOffset(slot);
  const r = createResponse(peer.handshake, index, pool.slab, off);
  if (r !== DropReason.None) {
    pool.release(slot);
    ctx.indexTable.remove(index, peer.handshakeEntry);
    peer.handshake.localIndex = 0;
    return void ctx.drops.count(r);
  }
  if (ctx.keyLog !== null) ctx.keyLog(peer);
  peer.cookieGenerator.addMacs(pool.slab, off, MESSAGE_RESPONSE_SIZE, now);
  if (!beginSymmetricSession(ctx, peer, now)) {
    pool.release(slot);
    return;
  }
  t.sessionDerived(now);
  t.anyAuthenticatedPacketTraversal(now, peer.persistentKeepaliveInterval);
  t.anyAuthenticatedPacketSent();
  peer.log?.debug({}, 'sending handshake response');
  sendDatagram(ctx, slot, off, MESSAGE_RESPONSE_SIZE, peer.endpoint, 0, peer);
}

/**
 * Turns the finished handshake into a keypair: key-table slots, the handshake's index
 * handed over to the keypair, and the rotation of current/previous/next. False (and the
 * index freed) when the key table is full.
 */
function beginSymmetricSession(ctx: HandshakeContext, peer: Peer, now: number): boolean {
  const keys = deriveKeypair(peer.handshake);
  if (keys === null) {
    ctx.drops.count(DropReason.WgHandshakeFailed);
    return false;
  }
  const table = ctx.keyTable;
  const sendSlot = table.alloc();
  const receiveSlot = sendSlot < 0 ? -1 : table.alloc();
  if (receiveSlot < 0) {
    if (sendSlot >= 0) table.free(sendSlot);
    keys.sendKey.fill(0);
    keys.receiveKey.fill(0);
    ctx.indexTable.remove(keys.localIndex, peer.handshakeEntry);
    ctx.drops.count(DropReason.WgHandshakeFailed);
    return false;
  }
  table.set(sendSlot, keys.sendKey);
  table.set(receiveSlot, keys.receiveKey);
  keys.sendKey.fill(0);
  keys.receiveKey.fill(0);
  const kp = new Keypair(peer, keys.localIndex, keys.remoteIndex, sendSlot, receiveSlot, now, keys.isInitiator);
  if (!ctx.indexTable.replace(keys.localIndex, kp.entry, peer.handshakeEntry)) {
    // Cannot happen while the handshake owns its index; never leave a keypair unreachable.
    table.free(sendSlot);
    table.free(receiveSlot);
    ctx.drops.count(DropReason.WgHandshakeFailed);
    return false;
  }
  for (const old of peer.keypairs.install(kp)) ctx.deleteKeypair(old);
  return true;
}

/** A cookie reply to a handshake message we will not process while under load. */
function sendCookieReply(ctx: HandshakeContext, off: number, len: number, eps: Uint8Array, epOff: number, now: number): void {
  const pool = ctx.pool;
  const slot = pool.acquire();
  if (slot < 0) return void ctx.drops.count(DropReason.PoolExhausted);
  const out = pool.dataOffset(slot);
  ctx.cookieChecker.createReply(pool.slab, off, len, eps, epOff, ENDPOINT_REMOTE_SIZE, now, pool.slab, out);
  sendDatagram(ctx, slot, out, MESSAGE_COOKIE_REPLY_SIZE, eps, epOff, null);
}

/** Queues one handshake-path datagram, whole already, in the out batch (sent with the data). */
function sendDatagram(ctx: HandshakeContext, slot: number, off: number, len: number, eps: Uint8Array, epOff: number, peer: Peer | null): void {
  if (eps[epOff] === 0) {
    ctx.pool.release(slot);
    return void ctx.dropFor(peer, DropReason.WgNoEndpoint);
  }
  ctx.io.queue(slot, off, len, eps, epOff, peer, TAG_WHOLE);
}

function isZero(buf: Uint8Array, off: number, n: number): boolean {
  let acc = 0;
  for (let i = 0; i < n; i++) acc |= buf[off + i];
  return acc === 0;
}
