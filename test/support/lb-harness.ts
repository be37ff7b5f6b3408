/**
 * A load balancer on a real Datapath over a FakeTun: the test plays the host (packets
 * into the TUN) and reads what ferry writes back out. A fake prober answers health
 * checks from a table; a fake peer plane stands for backends behind a WireGuard peer.
 */
import type { PacketBatch } from '../../src/buffer/batch.js';
import { BufferPool } from '../../src/buffer/pool.js';
import { parseConfig } from '../../src/config/parse.js';
import { lbSettingsFromConfig } from '../../src/config/lb-settings.js';
import { Datapath } from '../../src/datapath/datapath.js';
import type { OutBatch } from '../../src/datapath/out-batch.js';
import type { Plane, PlaneIo } from '../../src/datapath/plane.js';
import type { HealthProber } from '../../src/lb/health-probes.js';
import { LoadBalancer } from '../../src/lb/load-balancer.js';
import { SeededRandom } from '../../src/lb/random.js';
import type { LbSettings } from '../../src/lb/settings.js';
import { DropCounters } from '../../src/stats/drop-reasons.js';
import { FakeClock } from '../fakes/fake-clock.js';
import { FakeTun } from '../fakes/fake-tun.js';
import { parse, type Parsed } from './lb-packets.js';

/** Health answers by "host:port" (tcp/http) or "host" (icmp); missing means healthy. */
export class FakeProber implements HealthProber {
  readonly down = new Set<string>();
  readonly calls: string[] = [];

  tcp(address: string, port: number): Promise<boolean> {
    this.calls.push(`tcp ${address}:${port}`);
    return Promise.resolve(!this.down.has(`${address}:${port}`));
  }

  http(address: string, port: number, path: string, status: number): Promise<boolean> {
    this.calls.push(`http ${address}:${port}${path} ${status}`);
    return Promise.resolve(!this.down.has(`${address}:${port}`));
  }

  icmp(_family: 4 | 6, address: string): Promise<boolean> {
    this.calls.push(`icmp ${address}`);
    return Promise.resolve(!this.down.has(address));
  }

  close(): void {}
}

/** A plane with no port: what the route table sends it is kept; deliver() plays a peer's packet. */
export class PeerPlane implements Plane {
  readonly name = 'peer';
  readonly drops = new DropCounters();
  readonly got: Uint8Array[] = [];
  private io: PlaneIo | null = null;

  attach(io: PlaneIo): void {
    this.io = io;
  }
  start(): void {}
  stop(): void {}
  encapsulate(batch: PacketBatch): void {
    const pool = this.io!.pool;
    for (let i = 0; i < batch.count; i++) {
      this.got.push(Uint8Array.from(pool.slab.subarray(batch.offsets[i], batch.offsets[i] + batch.lengths[i])));
      pool.release(batch.slots[i]);
    }
    batch.count = 0;
  }
  decapsulate(batch: PacketBatch): void {
    for (let i = 0; i < batch.count; i++) this.io!.pool.release(batch.slots[i]);
    batch.count = 0;
  }
  prepare(_out: OutBatch, _from: number, _to: number): void {}
  sent(_out: OutBatch, _count: number, _results: Int32Array): void {}
  poll(): boolean {
    return false;
  }
  tick(): void {}
  close(): void {}

  /** A packet arrives from the peer (decrypted): it goes through the stage toward the host. */
  deliver(pkt: Uint8Array): void {
    const io = this.io!;
    const slot = io.pool.acquire();
    const off = io.pool.dataOffset(slot);
    io.pool.slab.set(pkt, off);
    io.deliver(slot, off, pkt.length);
    io.flush();
  }
}

export async function turns(n = 4): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

export class LbHarness {
  readonly clock = new FakeClock(1_000_000);
  readonly pool = new BufferPool({ slotCount: 512 });
  readonly tun = new FakeTun('lbtest', this.pool);
  readonly dp: Datapath;
  readonly prober = new FakeProber();
  readonly lb: LoadBalancer;
  private seen = 0;

  constructor(settings: LbSettings, options: { peer?: PeerPlane } = {}) {
    this.dp = new Datapath({ pool: this.pool, tun: this.tun, now: this.clock.now, tickIntervalMs: 0 });
    if (options.peer !== undefined) this.dp.addPlane(options.peer, null);
    this.lb = new LoadBalancer({ settings, prober: this.prober, random: new SeededRandom(7), seed: 11 });
    this.lb.mount(this.dp);
    this.dp.start();
  }

  static fromConfig(text: string, options: { peer?: PeerPlane } = {}): LbHarness {
    const settings = lbSettingsFromConfig(parseConfig(text, { file: 'lb.conf' }));
    if (settings === null) throw new Error('no LB in the config');
    return new LbHarness(settings, options);
  }

  /** Injects packets into the TUN (as the host would) and returns what ferry wrote back, parsed. */
  async send(...packets: Uint8Array[]): Promise<Parsed[]> {
    for (const p of packets) this.tun.inject(p);
    await turns();
    return this.written().map((w) => parse(w));
  }

  /** Raw packets written since the last call. */
  written(): Uint8Array[] {
    const out = this.tun.written.slice(this.seen);
    this.seen = this.tun.written.length;
    return out;
  }

  drops(): Record<string, number> {
    return this.dp.drops.snapshot();
  }

  tick(advanceMs = 0): void {
    this.clock.advance(advanceMs);
    this.dp.tick(this.clock.now());
  }

  close(): void {
    this.lb.close();
    this.dp.close();
    this.pool.assertNoLeaks();
  }
}
