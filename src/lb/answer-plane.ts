/**
 * How the load balancer sends packets of its own (a RST or an ICMP port unreachable to a
 * client it cannot serve): the translation stage has no way to emit a packet, so the LB
 * also mounts this plane, which has no port and no routes. An answer is written into a
 * fresh pool slot and delivered through PlaneIo.deliver; the stage lets it through
 * (Verdict.Forward while `delivering`), so it is routed to the client like any
 * translated packet: a WireGuard peer when the client is behind one, else the TUN.
 *
 * ICMP answers are rate-limited like the kernel's (icmp_msgs_per_sec 1000, burst 50);
 * RSTs are not (the kernel does not limit them either).
 */
import type { PacketBatch } from '../buffer/batch.js';
import type { OutBatch } from '../datapath/out-batch.js';
import type { Plane, PlaneIo } from '../datapath/plane.js';
import { DropCounters, DropReason } from '../stats/drop-reasons.js';
import { writePortUnreachable, writeTcpReset } from './answers.js';

const ICMP_ANSWERS_PER_SECOND = 1000;
const ICMP_ANSWER_BURST = 50;

interface AnswerStats {
  resets: number;
  unreachables: number;
  /** ICMP answers skipped by the rate limit. */
  rateLimited: number;
  /** Answers that found no free slot (also counted as pool_exhausted drops). */
  noSlot: number;
}

export class AnswerPlane implements Plane {
  readonly name = 'lb';
  readonly drops = new DropCounters();
  readonly stats: AnswerStats = { resets: 0, unreachables: 0, rateLimited: 0, noSlot: 0 };
  /** True while an answer passes the datapath: the stage forwards it untouched. */
  delivering = false;
  private io: PlaneIo | null = null;
  private tokens = ICMP_ANSWER_BURST;
  private refilledAt = -Infinity;

  attach(io: PlaneIo): void {
    this.io = io;
  }

  start(): void {}

  stop(): void {}

  /** No route points here; anything that arrives anyway is dropped and counted. */
  encapsulate(batch: PacketBatch): void {
    this.dropAll(batch);
  }

  decapsulate(batch: PacketBatch): void {
    this.dropAll(batch);
  }

  prepare(_out: OutBatch, _from: number, _to: number): void {}

  sent(_out: OutBatch, _count: number, _results: Int32Array): void {}

  poll(): boolean {
    return false;
  }

  tick(): void {}

  close(): void {}

  /** Answers the TCP segment at pkt[ipOff] with a RST (see answers.ts). Returns true when sent. */
  reset(pkt: Uint8Array, ipOff: number, family: number, tcpOff: number, flags: number, seq: number, ack: number, payloadLength: number): boolean {
    const io = this.io;
    if (io === null) return false;
    const slot = this.slot(io);
    if (slot < 0) return false;
    const pool = io.pool;
    const off = pool.dataOffset(slot);
    const n = writeTcpReset(pool.slab, off, pool.capacityOf(slot), pkt, ipOff, family, tcpOff, flags, seq, ack, payloadLength);
    if (n === 0) {
      pool.release(slot);
      return false;
    }
    this.stats.resets++;
    this.deliver(io, slot, off, n);
    return true;
  }

  /** Answers the packet at pkt[ipOff, ipOff + len) with a port unreachable. Returns true when sent. */
  unreachable(pkt: Uint8Array, ipOff: number, len: number, family: number, now: number): boolean {
    const io = this.io;
    if (io === null) return false;
    if (!this.takeToken(now)) {
      this.stats.rateLimited++;
      return false;
    }
    const slot = this.slot(io);
    if (slot < 0) return false;
    const pool = io.pool;
    const off = pool.dataOffset(slot);
    const n = writePortUnreachable(pool.slab, off, pool.capacityOf(slot), pkt, ipOff, len, family);
    if (n === 0) {
      pool.release(slot);
      return false;
    }
    this.stats.unreachables++;
    this.deliver(io, slot, off, n);
    return true;
  }

  private slot(io: PlaneIo): number {
    const slot = io.pool.acquire();
    if (slot < 0) {
      this.stats.noSlot++;
      this.drops.count(DropReason.PoolExhausted);
    }
    return slot;
  }

  private deliver(io: PlaneIo, slot: number, off: number, len: number): void {
    this.delivering = true;
    try {
      io.deliver(slot, off, len);
    } finally {
      this.delivering = false;
    }
  }

  private takeToken(now: number): boolean {
    const elapsed = now - this.refilledAt;
    if (elapsed > 0) {
      this.tokens = Math.min(ICMP_ANSWER_BURST, this.tokens + (elapsed * ICMP_ANSWERS_PER_SECOND) / 1000);
      this.refilledAt = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private dropAll(batch: PacketBatch): void {
    const pool = this.io?.pool;
    for (let i = 0; i < batch.count; i++) {
      pool?.release(batch.slots[i]);
      this.drops.count(DropReason.NoRoute);
    }
    batch.count = 0;
  }
}
