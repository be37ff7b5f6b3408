/**
 * WgDevice: the WireGuard plane (wireguard-go device.go, minus the I/O). It owns the peers
 * and every WireGuard table, and the datapath (src/datapath) drives it:
 *   - encapsulate(batch, refs) -> send.ts encapsulateBatch (pad, header, queue; one seal per flush)
 *   - decapsulate(batch)       -> receive.ts receiveUdpBatch (one open, deliver to the host),
 *                                 handshakes parked in the handshake queue
 *   - poll(now, budget)        -> a budgeted slice of the handshake queue (handshake-path.ts)
 *   - tick(now)                -> every peer's protocol timers (timers.ts), rate limiter gc
 * It owns no port: datagrams go into the datapath's out batch and leave once per wake.
 * Allowed IPs are claimed in the datapath's route table (the route's reference is the
 * peer) and kept in the device's own trie for the inbound source check and `wg show`.
 * Time is injected (`now` monotonic ms, `wallNow` for TAI64N and last-handshake times).
 * Configuration follows the cross-platform UAPI's semantics.
 */
import { EventEmitter } from 'node:events';
import { DEFAULT_BATCH_SIZE, type PacketBatch } from '../buffer/batch.js';
import type { BufferPool } from '../buffer/pool.js';
import type { OutBatch } from '../datapath/out-batch.js';
import type { Plane, PlaneIo } from '../datapath/plane.js';
import { ErrorCode, FerryError } from '../errors.js';
import type { Endpoint } from '../io/endpoint.js';
import { DropCounters, DropReason } from '../stats/drop-reasons.js';
import { AllowedIps, type IpPrefix, parsePrefix } from './allowed-ips.js';
import { type BatchAead, nativeBatchAead } from './batch-aead.js';
import { AEAD_TAG_SIZE, KEY_SIZE, MESSAGE_TRANSPORT_HEADER_SIZE, PADDING_MULTIPLE, REKEY_TIMEOUT_JITTER_MAX_MS, REKEY_TIMEOUT_MS, UNDER_LOAD_AFTER_TIME_MS } from './constants.js';
import { CookieChecker, deriveMacKeys } from './cookie.js';
import { newPrivateKey } from './crypto.js';
import type { DatapathContext } from './datapath-context.js';
import { type HandshakeContext, processHandshakeQueue, removeHandshakeIndex, sendHandshakeInitiation } from './handshake-path.js';
import { HANDSHAKE_QUEUE_SIZE, HandshakeQueue } from './handshake-queue.js';
import { IndexTable } from './index-table.js';
import { KeyTable } from './key-table.js';
import type { IndexEntry, Keypair } from './keypair.js';
import { createStaticIdentity, type Handshake, type HandshakeLookup, type StaticIdentity } from './noise.js';
import { type DeviceLogger, Peer } from './peer.js';
import { RateLimiter, RATELIMITER_IDLE_MS } from './ratelimiter.js';
import { receiveUdpBatch, RxScratch } from './receive.js';
import { encapsulateBatch, SealScratch, sealPrepared, sendKeepalive, sendStagedPackets, sentToPeers } from './send.js';
import { STAGED_QUEUE_SIZE } from './staged-queue.js';
import { runExpiredTimers, type TimerHandlers } from './timers.js';
import { DEFAULT_HANDSHAKE_BUDGET, DEFAULT_MTU, type PortConfigHook, type WgDeviceEvents, type WgDeviceOptions } from './device-options.js';

export { DEFAULT_HANDSHAKE_BUDGET, DEFAULT_MTU, type PortConfigHook, type WgDeviceEvents, type WgDeviceOptions } from './device-options.js';

function checkKey(key: Uint8Array, what: string): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_SIZE) throw new FerryError(ErrorCode.InvalidArgument, `${what} must be ${KEY_SIZE} bytes`);
}

function isAllZero(a: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < a.length; i++) acc |= a[i];
  return acc === 0;
}

function keyHex(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex');
}

function toPrefix(p: IpPrefix | string): IpPrefix {
  return typeof p === 'string' ? parsePrefix(p) : p;
}

/** What the device does with its lane before it is mounted on a datapath. */
function unmounted(): never {
  throw new FerryError(ErrorCode.InvalidArgument, 'the WireGuard device is not mounted on a datapath');
}

export class WgDevice extends EventEmitter<WgDeviceEvents> implements Plane, DatapathContext, HandshakeContext, TimerHandlers<Peer> {
  readonly name = 'wireguard';
  /** A transport header and the AEAD tag (padding stays within the MTU). */
  readonly overhead = MESSAGE_TRANSPORT_HEADER_SIZE + AEAD_TAG_SIZE;
  readonly pool: BufferPool;
  readonly aead: BatchAead;
  readonly drops = new DropCounters();
  readonly allowedIps = new AllowedIps<Peer>();
  readonly indexTable: IndexTable<IndexEntry>;
  readonly keyTable: KeyTable;
  readonly rateLimiter: RateLimiter;
  readonly cookieChecker: CookieChecker;
  readonly handshakeQueue: HandshakeQueue;
  readonly now: () => number;
  readonly wallNow: () => number;
  private readonly random: () => number;
  private mtuValue: number;
  /** wireguard-go QueueHandshakeSize / 8 by default; a test may lower it to force load. */
  underLoadThreshold: number;
  handshakeBudget: number;
  /** Called when listenPort or fwmark is set: the daemon opens the UDP port and gives it to the datapath. */
  onPortConfigChange: PortConfigHook | undefined;
  /** Told of each handshake's new ephemeral key (key log for captures, FERRY_KEYLOG_FILE); null: nobody asked. */
  keyLog: ((peer: Peer) => void) | null = null;

  // Datapath state: preallocated once.
  readonly rx: RxScratch;
  private readonly seal: SealScratch;
  batchNow = 0;
  up = false;
  private ioValue: PlaneIo | null = null;

  private identityValue: StaticIdentity | null = null;
  /** Peers' handshakes need an identity object; this stands in while the device has no key. */
  private placeholder: StaticIdentity | null = null;
  private readonly peersByKey = new Map<string, Peer>();
  private readonly stagedQueueSize: number;
  private readonly logger: DeviceLogger | undefined;
  private underLoadUntil = -Infinity;
  private lastGc = -Infinity;
  private listenPortValue = 0;
  private fwmarkValue = 0;
  private closed = false;
  readonly lookupHandshake: HandshakeLookup;
  /** One peer's due timers at batchNow (tick's callback, bound once). */
  private readonly tickPeer: (peer: Peer) => void;

  constructor(options: WgDeviceOptions) {
    super();
    const pool = options.pool;
    if (pool.headroom < MESSAGE_TRANSPORT_HEADER_SIZE || pool.tailroom < AEAD_TAG_SIZE + PADDING_MULTIPLE - 1) {
      throw new FerryError(ErrorCode.InvalidArgument, `WireGuard needs pool headroom >= ${MESSAGE_TRANSPORT_HEADER_SIZE} and tailroom >= ${AEAD_TAG_SIZE + PADDING_MULTIPLE - 1}`);
    }
    this.pool = pool;
    this.aead = options.aead ?? nativeBatchAead;
    this.now = options.now ?? (() => performance.now());
    this.wallNow = options.wallNow ?? Date.now;
    this.random = options.random ?? Math.random;
    this.mtuValue = options.mtu ?? DEFAULT_MTU;
    if (!Number.isInteger(this.mtuValue) || this.mtuValue < 0 || this.mtuValue > 65535) throw new FerryError(ErrorCode.InvalidArgument, `mtu must be 0..65535, got ${this.mtuValue}`);
    const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    this.rx = new RxScratch(batchSize);
    this.seal = new SealScratch(batchSize);
    // Queued handshakes hold pool slots: never more than a quarter of the pool.
    const queueSize = Math.max(1, Math.min(options.handshakeQueueSize ?? HANDSHAKE_QUEUE_SIZE, Math.floor(pool.slotCount / 4)));
    this.handshakeQueue = new HandshakeQueue(queueSize);
    this.underLoadThreshold = options.underLoadThreshold ?? Math.max(1, Math.floor(queueSize / 8));
    this.handshakeBudget = options.handshakeBudget ?? DEFAULT_HANDSHAKE_BUDGET;
    if (!Number.isInteger(this.handshakeBudget) || this.handshakeBudget < 0) throw new FerryError(ErrorCode.InvalidArgument, `handshakeBudget must be a non-negative integer, got ${this.handshakeBudget}`);
    this.stagedQueueSize = options.stagedQueueSize ?? STAGED_QUEUE_SIZE;
    this.indexTable = new IndexTable<IndexEntry>({ capacity: options.indexTableCapacity });
    this.keyTable = new KeyTable(options.keyTableSlots, options.keyTableMaxSlots);
    this.rateLimiter = new RateLimiter({ capacity: options.rateLimiterCapacity });
    this.cookieChecker = new CookieChecker(deriveMacKeys(new Uint8Array(KEY_SIZE)));
    this.logger = options.logger;
    this.lookupHandshake = (remoteStatic: Uint8Array): Handshake | undefined => this.findPeerByStatic(remoteStatic)?.handshake;
    this.tickPeer = (peer: Peer): void => runExpiredTimers(peer.timers, peer, peer.persistentKeepaliveInterval, this.batchNow, this);
  }

  /** The datapath's lane for this plane (throws before the device is mounted). */
  get io(): PlaneIo {
    return this.ioValue ?? unmounted();
  }

  get isMounted(): boolean {
    return this.ioValue !== null;
  }

  /** Inner MTU for padding: the datapath's (followed at run time) once mounted. */
  get mtu(): number {
    return this.ioValue === null ? this.mtuValue : this.ioValue.mtu;
  }

  // ---------------------------------------------------------------- identity

  get identity(): StaticIdentity | null {
    return this.identityValue;
  }

  /** Our private key (clamped, a copy), or null. */
  getPrivateKey(): Uint8Array | null {
    return this.identityValue === null ? null : Uint8Array.from(this.identityValue.privateKey);
  }

  get publicKey(): Uint8Array | null {
    return this.identityValue === null ? null : Uint8Array.from(this.identityValue.publicKey);
  }

  /**
   * Sets the private key (null or all zero: none), as UAPI private_key= does (wireguard-go
   * SetPrivateKey): a peer with our new public key is removed, every handshake restarts
   * under the new identity, and current sessions stop sending (they rekey at once).
   */
  setPrivateKey(key: Uint8Array | null): void {
    if (key !== null) checkKey(key, 'private key');
    const next = key === null || isAllZero(key) ? null : createStaticIdentity(key);
    const cur = this.identityValue;
    if (next === null ? cur === null : cur !== null && Buffer.compare(cur.privateKey, next.privateKey) === 0) return;
    if (next !== null) {
      const self = this.peersByKey.get(keyHex(next.publicKey));
      if (self !== undefined) this.removePeer(self);
    }
    this.identityValue = next;
    this.cookieChecker.setKeys(next !== null ? next : deriveMacKeys(new Uint8Array(KEY_SIZE)));
    const now = this.now();
    for (const peer of this.peersByKey.values()) {
      removeHandshakeIndex(this, peer);
      peer.handshake.setIdentity(next ?? this.placeholderIdentity());
      peer.timers.lastSentHandshake = now - (REKEY_TIMEOUT_MS + 1000);
      peer.keypairs.expireForSending();
    }
  }

  private placeholderIdentity(): StaticIdentity {
    if (this.placeholder === null) {
      const k = new Uint8Array(KEY_SIZE);
      newPrivateKey(k);
      this.placeholder = createStaticIdentity(k);
      k.fill(0);
    }
    return this.placeholder;
  }

  // ---------------------------------------------------------------- port settings

  /** The bound listen port (the datapath's port for this plane), or the one asked for. */
  get listenPort(): number {
    const bound = this.ioValue?.localPort ?? 0;
    return bound !== 0 ? bound : this.listenPortValue;
  }

  set listenPort(port: number) {
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new FerryError(ErrorCode.InvalidArgument, `listen port must be 0..65535, got ${port}`);
    if (port === this.listenPortValue) return;
    this.listenPortValue = port;
    this.onPortConfigChange?.('listenPort', port);
  }

  get fwmark(): number {
    return this.fwmarkValue;
  }

  set fwmark(mark: number) {
    if (!Number.isInteger(mark) || mark < 0 || mark > 0xffff_ffff) throw new FerryError(ErrorCode.InvalidArgument, `fwmark must be a u32, got ${mark}`);
    if (mark === this.fwmarkValue) return;
    this.fwmarkValue = mark;
    this.onPortConfigChange?.('fwmark', mark);
  }

  // ---------------------------------------------------------------- peers

  /** The peer with this public key, created if new (UAPI public_key=). Throws for our own key. */
  addPeer(publicKey: Uint8Array): Peer {
    checkKey(publicKey, 'peer public key');
    const hex = keyHex(publicKey);
    const existing = this.peersByKey.get(hex);
    if (existing !== undefined) return existing;
    if (this.isOwnPublicKey(publicKey)) throw new FerryError(ErrorCode.InvalidArgument, 'a peer cannot have the interface\'s own public key');
    const peer = new Peer(publicKey, this.identityValue ?? this.placeholderIdentity(), this.stagedQueueSize);
    peer.log = this.logger?.child?.({ peer: peer.toString() }) ?? this.logger;
    this.peersByKey.set(hex, peer);
    if (this.up) peer.timers.start(this.now());
    return peer;
  }

  getPeer(publicKey: Uint8Array): Peer | undefined {
    return publicKey.length === KEY_SIZE ? this.peersByKey.get(keyHex(publicKey)) : undefined;
  }

  /** Peers in insertion order (what wg show lists). */
  getPeers(): Peer[] {
    return [...this.peersByKey.values()];
  }

  get peerCount(): number {
    return this.peersByKey.size;
  }

  isOwnPublicKey(publicKey: Uint8Array): boolean {
    return this.identityValue !== null && Buffer.compare(this.identityValue.publicKey, publicKey) === 0;
  }

  /** Removes a peer (UAPI remove=true): its keys, handshake, staged packets, allowed IPs and routes go. */
  removePeer(peerOrKey: Peer | Uint8Array): boolean {
    const peer = peerOrKey instanceof Peer ? peerOrKey : this.getPeer(peerOrKey);
    if (peer === undefined || this.peersByKey.get(peer.publicKeyHex) !== peer) return false;
    peer.timers.stop();
    this.zeroAndFlushAll(peer);
    this.allowedIps.removeByPeer(peer);
    this.ioValue?.releaseRoutes(peer);
    this.peersByKey.delete(peer.publicKeyHex);
    return true;
  }

  /** UAPI replace_peers=true. */
  removeAllPeers(): void {
    for (const peer of [...this.peersByKey.values()]) this.removePeer(peer);
  }

  findPeerByStatic(remoteStatic: Uint8Array): Peer | undefined {
    return this.peersByKey.get(keyHex(remoteStatic));
  }

  setPresharedKey(peer: Peer, psk: Uint8Array | null): void {
    if (psk !== null) checkKey(psk, 'preshared key');
    peer.setPresharedKey(psk);
  }

  setEndpoint(peer: Peer, endpoint: Endpoint | null): void {
    peer.setEndpoint(endpoint);
  }

  /**
   * Seconds between keepalives when nothing else is sent; 0 = off. Turning it on while up
   * sends one at once (wireguard-go's UAPI does, so a NATed peer is reachable right away).
   */
  setPersistentKeepalive(peer: Peer, seconds: number): void {
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > 65535) throw new FerryError(ErrorCode.InvalidArgument, `persistent keepalive must be 0..65535 seconds, got ${seconds}`);
    const old = peer.persistentKeepaliveInterval;
    peer.persistentKeepaliveInterval = seconds;
    if (old === 0 && seconds > 0 && this.up && this.ioValue !== null) {
      this.batchNow = this.now();
      sendKeepalive(this, peer, this.batchNow);
      this.ioValue.flush();
    }
  }

  /**
   * Another plane holding exactly this prefix in the route table, or null. A whole UAPI
   * change is checked with it before anything is applied.
   */
  allowedIpConflict(prefix: IpPrefix | string): string | null {
    return this.ioValue?.routeConflict(toPrefix(prefix)) ?? null;
  }

  /** Gives prefix to peer (taking it from another peer), in the trie and the route table. */
  addAllowedIp(peer: Peer, prefix: IpPrefix | string): void {
    const p = toPrefix(prefix);
    const io = this.ioValue;
    const other = io?.routeConflict(p) ?? null;
    if (other !== null) throw new FerryError(ErrorCode.RouteConflict, `allowed IP ${typeof prefix === 'string' ? prefix : `${p.cidr}`} is routed to ${other}`);
    this.allowedIps.insert(p.bytes, p.cidr, peer);
    io?.claimRoute(p, peer);
  }

  removeAllowedIp(peer: Peer, prefix: IpPrefix | string): boolean {
    const p = toPrefix(prefix);
    if (!this.allowedIps.remove(p.bytes, p.cidr, peer)) return false;
    this.ioValue?.releaseRoute(p, peer);
    return true;
  }

  /** UAPI replace_allowed_ips=true; returns how many were removed. */
  clearAllowedIps(peer: Peer): number {
    this.ioValue?.releaseRoutes(peer);
    return this.allowedIps.removeByPeer(peer);
  }

  allowedIpsOf(peer: Peer): IpPrefix[] {
    return this.allowedIps.entriesForPeer(peer);
  }

  // ---------------------------------------------------------------- Plane

  attach(io: PlaneIo): void {
    if (this.ioValue !== null) throw new FerryError(ErrorCode.InvalidArgument, 'the WireGuard device is already mounted');
    for (const peer of this.peersByKey.values()) {
      for (const p of this.allowedIps.entriesForPeer(peer)) if (io.routeConflict(p) !== null) throw new FerryError(ErrorCode.RouteConflict, `an allowed IP of peer ${peer.toString()} is routed to ${io.routeConflict(p)}`);
    }
    this.ioValue = io;
    for (const peer of this.peersByKey.values()) for (const p of this.allowedIps.entriesForPeer(peer)) io.claimRoute(p, peer);
  }

  /** The interface comes up: timers run, persistent keepalives go out. */
  start(now = this.now()): void {
    if (this.closed) throw new FerryError(ErrorCode.InvalidArgument, 'device is closed');
    if (this.up) return;
    this.up = true;
    this.batchNow = now;
    for (const peer of this.peersByKey.values()) peer.timers.start(now);
    if (this.ioValue === null) return;
    for (const peer of this.peersByKey.values()) if (peer.persistentKeepaliveInterval > 0) sendKeepalive(this, peer, now);
  }

  /** Down (wireguard-go: peers stop and all keys are zeroed). */
  stop(): void {
    if (!this.up) return;
    this.up = false;
    for (const peer of this.peersByKey.values()) {
      peer.timers.stop();
      this.zeroAndFlushAll(peer);
    }
    this.handshakeQueue.releaseAll(this.pool);
    this.underLoadUntil = -Infinity;
  }

  /** Stops and removes every peer. Every pool slot the device held is back. */
  close(): void {
    if (this.closed) return;
    this.stop();
    this.closed = true;
    this.removeAllPeers();
    this.handshakeQueue.releaseAll(this.pool);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  encapsulate(batch: PacketBatch, refs: readonly unknown[]): void {
    this.batchNow = this.io.now;
    if (!this.up) {
      for (let i = 0; i < batch.count; i++) this.pool.release(batch.slots[i]);
      this.drops.count(DropReason.WgNoKeypair, batch.count);
      batch.count = 0;
      return;
    }
    encapsulateBatch(this, batch, refs);
  }

  decapsulate(batch: PacketBatch): void {
    this.batchNow = this.io.now;
    receiveUdpBatch(this, batch);
  }

  prepare(out: OutBatch, from: number, to: number): void {
    sealPrepared(this, this.seal, out, from, to);
  }

  sent(out: OutBatch, count: number, results: Int32Array): void {
    sentToPeers(this, out, count, results);
  }

  /** A budgeted slice of the handshake queue; true while more waits (a budget of 0 parks them). */
  poll(now: number, budget = this.handshakeBudget): boolean {
    if (!this.up || this.handshakeQueue.length === 0) return false;
    this.batchNow = now;
    const done = processHandshakeQueue(this, Math.min(budget, this.handshakeBudget), now);
    return done > 0 && this.handshakeQueue.length > 0;
  }

  /** Runs every due protocol timer; the datapath's tick calls it. */
  tick(now = this.now()): void {
    if (!this.up) return;
    this.batchNow = now;
    // forEach with a callback made once: the tick runs too rarely to be optimised, and a
    // Map iterator would leave garbage every 100 ms.
    this.peersByKey.forEach(this.tickPeer);
    if (now - this.lastGc >= RATELIMITER_IDLE_MS) {
      this.rateLimiter.gc(now);
      this.lastGc = now;
    }
  }

  // ---------------------------------------------------------------- hooks (DatapathContext, HandshakeContext, TimerHandlers)

  dropFor(peer: Peer | null, reason: number): void {
    this.drops.count(reason);
    if (peer !== null) peer.countDrop(reason);
  }

  jitter(): number {
    return Math.floor(this.random() * REKEY_TIMEOUT_JITTER_MAX_MS);
  }

  isUnderLoad(now: number): boolean {
    if (this.handshakeQueue.length >= this.underLoadThreshold) {
      this.underLoadUntil = now + UNDER_LOAD_AFTER_TIME_MS;
      return true;
    }
    return this.underLoadUntil > now;
  }

  sendHandshakeInitiation(peer: Peer, isRetry: boolean, now: number): void {
    if (this.ioValue === null) return;
    sendHandshakeInitiation(this, peer, isRetry, now);
  }

  sendKeepalive(peer: Peer, now: number): void {
    if (this.ioValue === null) return;
    sendKeepalive(this, peer, now);
  }

  confirmKeypair(peer: Peer, kp: Keypair, now: number): void {
    const old = peer.keypairs.confirmNext(kp);
    if (old === undefined) return;
    if (old !== null) this.deleteKeypair(old);
    peer.timers.handshakeComplete();
    peer.lastHandshakeWallMs = this.wallNow();
    this.handshakeCompleted(peer, false);
    sendStagedPackets(this, peer, now);
  }

  handshakeCompleted(peer: Peer, initiator: boolean): void {
    peer.log?.debug({ initiator }, 'session established');
    this.emit('handshake', peer, initiator);
  }

  endpointChanged(peer: Peer): void {
    this.emit('endpoint', peer);
  }

  /** Frees a keypair's index and key slots. Queued packets sealed with it go out first. */
  deleteKeypair(kp: Keypair): void {
    if (kp.deleted) return;
    const io = this.ioValue;
    if (io !== null && io.out.count > io.out.prepared) io.flush();
    this.indexTable.remove(kp.localIndex, kp.entry);
    this.keyTable.free(kp.sendSlot);
    this.keyTable.free(kp.receiveSlot);
    kp.sendSlot = -1;
    kp.receiveSlot = -1;
  }

  flushStaged(peer: Peer): void {
    const n = peer.staged.releaseAll(this.pool);
    if (n > 0) {
      this.drops.count(DropReason.WgNoKeypair, n);
      peer.countDrop(DropReason.WgNoKeypair, n);
    }
  }

  /** Drops every key, the handshake in progress and the staged packets (wireguard-go ZeroAndFlushAll). */
  zeroAndFlushAll(peer: Peer): void {
    const had = peer.keypairs.current !== null || peer.keypairs.next !== null || peer.keypairs.previous !== null;
    for (const kp of peer.keypairs.clear()) this.deleteKeypair(kp);
    removeHandshakeIndex(this, peer);
    peer.handshake.clear();
    this.flushStaged(peer);
    if (had) this.emit('keysZeroed', peer);
  }

  handshakeGaveUp(peer: Peer): void {
    peer.log?.info({ attempts: peer.timers.handshakeAttempts + 1 }, 'handshake did not complete, giving up');
    this.emit('handshakeGiveUp', peer);
  }
}
