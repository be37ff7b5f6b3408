/**
 * What every part of the WireGuard device shares (wireguard-go device.go's state, minus
 * the I/O): the tables, the datapath's lane, the clocks, and the hooks the packet paths
 * call back into (DatapathContext for send.ts and receive.ts, HandshakeContext for
 * handshake-path.ts, TimerHandlers for timers.ts). The configuration half is
 * device-config.ts, the plane the datapath drives is device.ts (WgDevice).
 */
import { EventEmitter } from 'node:events';
import { DEFAULT_BATCH_SIZE } from '../buffer/batch.js';
import type { BufferPool } from '../buffer/pool.js';
import type { PlaneIo } from '../datapath/plane.js';
import { ErrorCode, FerryError } from '../errors.js';
import { DropCounters, DropReason } from '../stats/drop-reasons.js';
import { AllowedIps } from './allowed-ips.js';
import { type BatchAead, nativeBatchAead } from './batch-aead.js';
import { AEAD_TAG_SIZE, KEY_SIZE, MESSAGE_TRANSPORT_HEADER_SIZE, PADDING_MULTIPLE, REKEY_TIMEOUT_JITTER_MAX_MS, UNDER_LOAD_AFTER_TIME_MS } from './constants.js';
import { CookieChecker, deriveMacKeys } from './cookie.js';
import { CookieReplyLimiter } from './cookie-reply-limiter.js';
import type { DatapathContext } from './datapath-context.js';
import type { Handshake, StaticIdentity } from './handshake.js';
import { type HandshakeContext, removeHandshakeIndex, sendHandshakeInitiation } from './handshake-path.js';
import { HANDSHAKE_QUEUE_SIZE, HandshakeQueue } from './handshake-queue.js';
import { IndexTable } from './index-table.js';
import { KeyTable } from './key-table.js';
import type { IndexEntry, Keypair } from './keypair.js';
import type { HandshakeLookup } from './noise.js';
import type { DeviceLogger, Peer } from './peer.js';
import { RateLimiter } from './ratelimiter.js';
import { RxScratch } from './receive.js';
import { SealScratch, sendKeepalive, sendStagedPackets } from './send.js';
import { STAGED_QUEUE_SIZE } from './staged-queue.js';
import type { TimerHandlers } from './timers.js';
import { DEFAULT_HANDSHAKE_BUDGET, DEFAULT_HANDSHAKE_TIME_BUDGET_MS, DEFAULT_MTU, type WgDeviceEvents, type WgDeviceOptions } from './device-options.js';

/** A public key as the peer table's key. */
export function keyHex(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex');
}

/** What the device does with its lane before it is mounted on a datapath. */
function unmounted(): never {
  throw new FerryError(ErrorCode.InvalidArgument, 'the WireGuard device is not mounted on a datapath');
}

export class WgDeviceCore extends EventEmitter<WgDeviceEvents> implements DatapathContext, HandshakeContext, TimerHandlers<Peer> {
  readonly pool: BufferPool;
  readonly aead: BatchAead;
  readonly drops = new DropCounters();
  readonly allowedIps = new AllowedIps<Peer>();
  readonly indexTable: IndexTable<IndexEntry>;
  readonly keyTable: KeyTable;
  readonly rateLimiter: RateLimiter;
  readonly cookieReplyLimiter: CookieReplyLimiter;
  readonly cookieChecker: CookieChecker;
  readonly handshakeQueue: HandshakeQueue;
  readonly now: () => number;
  readonly wallNow: () => number;
  protected readonly random: () => number;
  protected mtuValue: number;
  /** wireguard-go QueueHandshakeSize / 8 by default; a test may lower it to force load. */
  underLoadThreshold: number;
  handshakeBudget: number;
  /** Milliseconds of handshake work per poll (DEFAULT_HANDSHAKE_TIME_BUDGET_MS). */
  readonly handshakeTimeBudgetMs: number;
  /** Told of each handshake's new ephemeral key (key log for captures, FERRY_KEYLOG_FILE); null: nobody asked. */
  keyLog: ((peer: Peer) => void) | null = null;

  // Datapath state: preallocated once.
  readonly rx: RxScratch;
  protected readonly seal: SealScratch;
  batchNow = 0;
  up = false;
  protected ioValue: PlaneIo | null = null;

  protected identityValue: StaticIdentity | null = null;
  protected readonly peersByKey = new Map<string, Peer>();
  protected readonly stagedQueueSize: number;
  protected readonly logger: DeviceLogger | undefined;
  protected underLoadUntil = -Infinity;
  readonly lookupHandshake: HandshakeLookup;

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
    this.handshakeTimeBudgetMs = options.handshakeTimeBudgetMs ?? DEFAULT_HANDSHAKE_TIME_BUDGET_MS;
    if (!(this.handshakeTimeBudgetMs >= 0 && Number.isFinite(this.handshakeTimeBudgetMs))) throw new FerryError(ErrorCode.InvalidArgument, `handshakeTimeBudgetMs must be a finite number >= 0, got ${this.handshakeTimeBudgetMs}`);
    this.stagedQueueSize = options.stagedQueueSize ?? STAGED_QUEUE_SIZE;
    this.indexTable = new IndexTable<IndexEntry>({ capacity: options.indexTableCapacity });
    this.keyTable = new KeyTable(options.keyTableSlots, options.keyTableMaxSlots);
    this.rateLimiter = new RateLimiter({ capacity: options.rateLimiterCapacity });
    this.cookieReplyLimiter = new CookieReplyLimiter({ capacity: options.rateLimiterCapacity, perSecond: options.cookieRepliesPerSecond });
    this.cookieChecker = new CookieChecker(deriveMacKeys(new Uint8Array(KEY_SIZE)));
    this.logger = options.logger;
    this.lookupHandshake = (remoteStatic: Uint8Array): Handshake | undefined => this.findPeerByStatic(remoteStatic)?.handshake;
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


  get identity(): StaticIdentity | null {
    return this.identityValue;
  }


  findPeerByStatic(remoteStatic: Uint8Array): Peer | undefined {
    return this.peersByKey.get(keyHex(remoteStatic));
  }

  // ---------------------------------------------------------------- hooks (DatapathContext, HandshakeContext, TimerHandlers)

  dropFor(peer: Peer | null, reason: number): void {
    this.drops.count(reason);
    if (peer !== null) peer.countDrop(reason);
  }

  jitter(): number {
    return Math.floor(this.random() * REKEY_TIMEOUT_JITTER_MAX_MS);
  }

  /** wireguard-go IsUnderLoad, plus ferry's second cause: the handshake time budget ran out (device.ts poll). */
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
      this.drops.count(DropReason.WgStagedGaveUp, n);
      peer.countDrop(DropReason.WgStagedGaveUp, n);
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
