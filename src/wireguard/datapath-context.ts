import type { BufferPool } from '../buffer/pool.js';
import type { PlaneIo } from '../datapath/plane.js';
import type { DropCounters } from '../stats/drop-reasons.js';
import type { AllowedIps } from './allowed-ips.js';
import type { BatchAead } from './batch-aead.js';
import type { HandshakeQueue } from './handshake-queue.js';
import type { IndexTable } from './index-table.js';
import type { KeyTable } from './key-table.js';
import type { IndexEntry, Keypair } from './keypair.js';
import type { Peer } from './peer.js';
import type { RxScratch } from './receive.js';

/**
 * What the per-batch send and receive functions (send.ts, receive.ts) see of the device:
 * the tables, the datapath's lane (io: the out batch toward the port, delivery to the
 * host), plus the few control-path hooks a packet can trigger (start a handshake, confirm
 * a keypair, note a roam). WgDevice implements it; keeping it an interface keeps the hot
 * path free of the device's configuration code.
 */
export interface DatapathContext {
  readonly pool: BufferPool;
  /** The datapath's lane for this plane; its out batch is where datagrams are queued. */
  readonly io: PlaneIo;
  readonly allowedIps: AllowedIps<Peer>;
  readonly indexTable: IndexTable<IndexEntry>;
  readonly keyTable: KeyTable;
  readonly drops: DropCounters;
  readonly aead: BatchAead;
  /** Inner MTU, for padding (wireguard-go calculatePaddingSize). */
  readonly mtu: number;
  /** Device up: timers active, packets flow. */
  readonly up: boolean;
  /** Monotonic ms of the batch (or tick) being processed; read once per entry point. */
  readonly batchNow: number;
  /** Open batch scratch for received transport messages. */
  readonly rx: RxScratch;
  readonly handshakeQueue: HandshakeQueue;
  /** Counts a drop against the device and, when known, the peer. */
  dropFor(peer: Peer | null, reason: number): void;
  /** Random timer jitter in [0, REKEY_TIMEOUT_JITTER_MAX_MS) ms. */
  jitter(): number;
  /** Control path: an initiation to peer, at most one per REKEY_TIMEOUT. */
  sendHandshakeInitiation(peer: Peer, isRetry: boolean, now: number): void;
  /** Control path: the first packet under `next` arrived (wireguard-go ReceivedWithKeypair). */
  confirmKeypair(peer: Peer, kp: Keypair, now: number): void;
  /** Control path: peer.endpoint was just replaced by a packet's source (roaming). */
  endpointChanged(peer: Peer): void;
}
