/**
 * The daemon's pool, in two classes of slots. Small slots (2 KiB) carry every packet of
 * the usual MTUs: 2 KiB apart, the 128 packets of a batch spread over the cache and share
 * TLB entries, where one packet per 17-page slot cost ~10 % of throughput (see
 * docs/benchmarks.md). Large slots (68 KiB) hold any packet an MTU allows (IPv4 and IPv6
 * carry at most 65535 bytes, as wireguard-go's 64 KiB buffers do), so `ip link set mtu`
 * can raise the MTU to a jumbo one at run time: the ports then read into large slots (the
 * datapath chooses per batch from the MTU). The kernel backs only the pages a packet
 * touches, so the 17 MiB of large slots stay virtual until a jumbo MTU uses them, and free
 * slots are reused last-in first-out, so a lightly loaded daemon stays small. Memory stays
 * bounded by the slot counts whatever the load.
 */
import type { PoolOptions } from '../buffer/pool.js';

export const SMALL_SLOT_SIZE = 2048;
export const LARGE_SLOT_SIZE = 65536 + 4096;
export const DAEMON_HEADROOM = 128;
export const DAEMON_TAILROOM = 32;
export const DAEMON_SLOT_COUNT = 4096;
export const DAEMON_LARGE_SLOT_COUNT = 256;

export function daemonPoolOptions(overrides: PoolOptions = {}): PoolOptions {
  return {
    slotCount: DAEMON_SLOT_COUNT,
    slotSize: SMALL_SLOT_SIZE,
    largeSlotCount: DAEMON_LARGE_SLOT_COUNT,
    largeSlotSize: LARGE_SLOT_SIZE,
    headroom: DAEMON_HEADROOM,
    tailroom: DAEMON_TAILROOM,
    ...overrides,
  };
}
