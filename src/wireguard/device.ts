/**
 * WgDevice: one WireGuard interface's orchestrator (wireguard-go device.go). It owns the two
 * I/O ports, the pool's use, the peers and every table, and runs:
 *   - the TUN readiness handler  -> send.ts sendTunBatch (route, pad, header, one seal, one send)
 *   - the UDP readiness handler  -> receive.ts receiveUdpBatch (one open, one TUN write), then
 *                                   a budgeted slice of the handshake queue (handshake-path.ts)
 *   - tick(now)                  -> every peer's protocol timers (timers.ts), rate limiter gc
 * Handlers are bound once here; the datapath allocates nothing per packet. Time is injected
 * (`now` monotonic ms, `wallNow` for TAI64N and last-handshake times), so a fake clock drives
 * everything in tests. Configuration follows the cross-platform UAPI's semantics.
 */
import { EventEmitter } from 'node:events';
import { PacketBatch, DEFAULT_BATCH_SIZE } from '../buffer/batch.js';
import type { BufferPool } from '../buffer/pool.js';
import { ErrorCode, FerryError } from '../errors.js';
import type { Endpoint } from '../io/endpoint.js';
import type { TunPort, UdpPort } from '../io/ports.js';
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
import { flushTx, sendKeepalive, sendStagedPackets, sendTunBatch, TxQueue } from './send.js';
import { STAGED_QUEUE_SIZE } from './staged-queue.js';
import { runExpiredTimers, type TimerHandlers } from './timers.js';
import { DEFAULT_BATCHES_PER_WAKE, DEFAULT_HANDSHAKE_BUDGET, DEFAULT_MTU, DEFAULT_TICK_INTERVAL_MS, type PortConfigHook, type WgDeviceEvents, type WgDeviceOptions } from './device-options.js';

export { DEFAULT_BATCHES_PER_WAKE, DEFAULT_HANDSHAKE_BUDGET, DEFAULT_MTU, DEFAULT_TICK_INTERVAL_MS, type PortConfigHook, type WgDeviceEvents, type WgDeviceOptions } from './device-options.js';

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

export class WgDevice extends EventEmitter<WgDeviceEvents> implements DatapathContext, HandshakeContext, TimerHandlers<Peer> {
  readonly pool: BufferPool;
  readonly tun: TunPort;
  udp: UdpPort;
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
  mtu: number;
  /** wireguard-go QueueHandshakeSize / 8 by default; a test may lower it to force load. */
  underLoadThreshold: number;
  handshakeBudget: number;
  /** Called when listenPort or fwmark is set: the daemon re-opens the UDP port (setUdpPort). */
  onPortConfigChange: PortConfigHook | undefined;

  // Datapath state: preallocated once.
  readonly tunIn: PacketBatch;
  readonly udpIn: PacketBatch;
  readonly tunOut: PacketBatch;
  readonly tx: TxQueue;
  readonly rx: RxScratch;
  readonly hsOut = new PacketBatch(1);
  batchNow = 0;
  up = false;

  private identityValue: StaticIdentity | null = null;
  /** Peers' handshakes need an identity object; this stands in while the device has no key. */
  private placeholder: StaticIdentity | null = null;
  private readonly peersByKey = new Map<string, Peer>();
  private readonly stagedQueueSize: number;
  private readonly tickIntervalMs: number;
  private readonly batchesPerWake: number;
  private readonly logger: DeviceLogger | undefined;
  private underLoadUntil = -Infinity;
  private lastGc = -Infinity;
  private listenPortValue: number;
  private fwmarkValue = 0;
  private closed = false;
  private portsStarted = false;
  private tickTimer: ReturnType<typeof setInterval> | undefined;
  private handshakesScheduled = false;

  // Bound once: readiness callbacks, the handshake continuation, the tick, the peer lookup.
  private readonly onTunReadable: () => void;
  private readonly onUdpReadable: () => void;
  private readonly onHandshakeContinuation: () => void;
  private readonly onTickTimer: () => void;
  readonly lookupHandshake: HandshakeLookup;

  constructor(options: WgDeviceOptions) {
    super();
    const pool = options.pool;
    if (pool.headroom < MESSAGE_TRANSPORT_HEADER_SIZE || pool.tailroom < AEAD_TAG_SIZE + PADDING_MULTIPLE - 1) {
      throw new FerryError(ErrorCode.InvalidArgument, `WireGuard needs pool headroom >= ${MESSAGE_TRANSPORT_HEADER_SIZE} and tailroom >= ${AEAD_TAG_SIZE + PADDING_MULTIPLE - 1}`);
    }
    this.pool = pool;
    this.tun = options.tun;
    this.udp = options.udp;
    this.aead = options.aead ?? nativeBatchAead;
    this.now = options.now ?? (() => performance.now());
    this.wallNow = options.wallNow ?? Date.now;
    this.random = options.random ?? Math.random;
    this.mtu = options.mtu ?? DEFAULT_MTU;
    if (!Number.isInteger(this.mtu) || this.mtu < 0 || this.mtu > 65535) throw new FerryError(ErrorCode.InvalidArgument, `mtu must be 0..65535, got ${this.mtu}`);
    const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    this.tunIn = new PacketBatch(batchSize);
    this.udpIn = new PacketBatch(batchSize);
    this.tunOut = new PacketBatch(batchSize);
    this.tx = new TxQueue(batchSize);
    this.rx = new RxScratch(batchSize);
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
    this.tickIntervalMs = options.tickIntervalMs ?? DEFAULT_TICK_INTERVAL_MS;
    this.batchesPerWake = options.batchesPerWake ?? DEFAULT_BATCHES_PER_WAKE;
    this.logger = options.logger;
    this.listenPortValue = this.udp.localPort;

    this.onTunReadable = () => this.readTun();
    this.onUdpReadable = () => this.readUdp();
    this.onHandshakeContinuation = () => {
      this.handshakesScheduled = false;
      this.processHandshakes();
    };
    this.onTickTimer = () => this.tick();
    this.lookupHandshake = (remoteStatic: Uint8Array): Handshake | undefined => this.findPeerByStatic(remoteStatic)?.handshake;
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

  // ---------------------------------------------------------------- ports

  get listenPort(): number {
    return this.listenPortValue;
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

  /** Swaps the UDP port (after a listen port or fwmark change); the old one is closed. */
  setUdpPort(udp: UdpPort): void {
    if (udp === this.udp) return;
    const old = this.udp;
    old.pause();
    old.close();
    this.udp = udp;
    if (udp.localPort !== 0) this.listenPortValue = udp.localPort;
    if (this.portsStarted) {
      udp.start(this.onUdpReadable);
      if (!this.up) udp.pause();
    }
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

  /** Removes a peer (UAPI remove=true): its keys, handshake, staged packets and allowed IPs go. */
  removePeer(peerOrKey: Peer | Uint8Array): boolean {
    const peer = peerOrKey instanceof Peer ? peerOrKey : this.getPeer(peerOrKey);
    if (peer === undefined || this.peersByKey.get(peer.publicKeyHex) !== peer) return false;
    peer.timers.stop();
    this.zeroAndFlushAll(peer);
    this.allowedIps.removeByPeer(peer);
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
    if (old === 0 && seconds > 0 && this.up) {
      this.batchNow = this.now();
      sendKeepalive(this, peer, this.batchNow);
      flushTx(this);
    }
  }

  addAllowedIp(peer: Peer, prefix: IpPrefix | string): void {
    const p = toPrefix(prefix);
    this.allowedIps.insert(p.bytes, p.cidr, peer);
  }

  removeAllowedIp(peer: Peer, prefix: IpPrefix | string): boolean {
    const p = toPrefix(prefix);
    return this.allowedIps.remove(p.bytes, p.cidr, peer);
  }

  /** UAPI replace_allowed_ips=true; returns how many were removed. */
  clearAllowedIps(peer: Peer): number {
    return this.allowedIps.removeByPeer(peer);
  }

  allowedIpsOf(peer: Peer): IpPrefix[] {
    return this.allowedIps.entriesForPeer(peer);
  }

  // ---------------------------------------------------------------- lifecycle

  /** Brings the device up: ports deliver, timers run, persistent keepalives go out. */
  start(): void {
    if (this.closed) throw new FerryError(ErrorCode.InvalidArgument, 'device is closed');
    if (this.up) return;
    this.up = true;
    const now = this.now();
    this.batchNow = now;
    for (const peer of this.peersByKey.values()) peer.timers.start(now);
    if (!this.portsStarted) {
      this.portsStarted = true;
      this.tun.start(this.onTunReadable);
      this.udp.start(this.onUdpReadable);
    } else {
      this.tun.resume();
      this.udp.resume();
    }
    if (this.tickIntervalMs > 0) {
      this.tickTimer = setInterval(this.onTickTimer, this.tickIntervalMs);
      this.tickTimer.unref();
    }
    for (const peer of this.peersByKey.values()) if (peer.persistentKeepaliveInterval > 0) sendKeepalive(this, peer, now);
    flushTx(this);
  }

  /** Brings the device down (wireguard-go: peers stop and all keys are zeroed). */
  stop(): void {
    if (!this.up) return;
    this.up = false;
    if (this.tickTimer !== undefined) clearInterval(this.tickTimer);
    this.tickTimer = undefined;
    this.tun.pause();
    this.udp.pause();
    for (const peer of this.peersByKey.values()) {
      peer.timers.stop();
      this.zeroAndFlushAll(peer);
    }
    this.handshakeQueue.releaseAll(this.pool);
    this.underLoadUntil = -Infinity;
  }

  /** Stops, removes every peer and closes both ports. Every pool slot the device held is back. */
  close(): void {
    if (this.closed) return;
    this.stop();
    this.closed = true;
    this.removeAllPeers();
    this.releaseBatches();
    this.tun.close();
    this.udp.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Runs every due protocol timer; the internal interval calls it, tests call it with a fake clock. */
  tick(now = this.now()): void {
    if (!this.up) return;
    this.batchNow = now;
    for (const peer of this.peersByKey.values()) runExpiredTimers(peer.timers, peer, peer.persistentKeepaliveInterval, now, this);
    if (now - this.lastGc >= RATELIMITER_IDLE_MS) {
      this.rateLimiter.gc(now);
      this.lastGc = now;
    }
    flushTx(this);
  }

  // ---------------------------------------------------------------- datapath entry points

  private readTun(): void {
    for (let k = 0; k < this.batchesPerWake && this.up; k++) {
      this.batchNow = this.now();
      const n = this.tun.readBatch(this.tunIn);
      if (n === 0) break;
      sendTunBatch(this, this.tunIn);
      if (n < this.tunIn.capacity) break;
    }
  }

  private readUdp(): void {
    for (let k = 0; k < this.batchesPerWake && this.up; k++) {
      this.batchNow = this.now();
      const n = this.udp.recvBatch(this.udpIn);
      if (n === 0) break;
      receiveUdpBatch(this, this.udpIn);
      if (n < this.udpIn.capacity) break;
    }
    this.processHandshakes();
  }

  private processHandshakes(): void {
    if (!this.up || this.handshakeQueue.length === 0) return;
    this.batchNow = this.now();
    const done = processHandshakeQueue(this, this.handshakeBudget, this.batchNow);
    // Continue soon with the rest; a budget of 0 (tests parking messages) must not spin.
    if (done > 0 && this.handshakeQueue.length > 0 && !this.handshakesScheduled) {
      this.handshakesScheduled = true;
      setImmediate(this.onHandshakeContinuation);
    }
  }

  // ---------------------------------------------------------------- hooks (DatapathContext, HandshakeContext, TimerHandlers)

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
    sendHandshakeInitiation(this, peer, isRetry, now);
  }

  sendKeepalive(peer: Peer, now: number): void {
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

  /** Frees a keypair's index and key slots. Sealed-but-unsent packets go out first. */
  deleteKeypair(kp: Keypair): void {
    if (kp.deleted) return;
    if (this.tx.batch.count > 0) flushTx(this);
    this.indexTable.remove(kp.localIndex, kp.entry);
    this.keyTable.free(kp.sendSlot);
    this.keyTable.free(kp.receiveSlot);
    kp.sendSlot = -1;
    kp.receiveSlot = -1;
  }

  flushStaged(peer: Peer): void {
    const n = peer.staged.releaseAll(this.pool);
    if (n > 0) this.drops.count(DropReason.WgNoKeypair, n);
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

  private releaseBatches(): void {
    for (const b of [this.tunIn, this.udpIn, this.tunOut, this.tx.batch, this.rx.batch, this.hsOut]) {
      for (let i = 0; i < b.count; i++) this.pool.release(b.slots[i]);
      b.clear();
    }
  }
}
