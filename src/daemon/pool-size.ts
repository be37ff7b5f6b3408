/**
 * The daemon's pool: slots large enough for any packet an MTU allows (IPv4 and IPv6 carry
 * at most 65535 bytes, as wireguard-go's 64 KiB buffers do), so `ip link set mtu` can
 * raise the MTU at run time without truncating a packet. A slot is 17 pages; the kernel
 * backs only the pages a packet touches (a 1420-byte packet touches one), and free slots
 * are reused last-in first-out, so a lightly loaded daemon stays small. Memory stays
 * bounded by the slot count whatever the load.
 */
import type { PoolOptions } from '../buffer/pool.js';

const LARGE_SLOT_SIZE = 65536 + 4096;
const DAEMON_HEADROOM = 128;
const DAEMON_TAILROOM = 32;
const DAEMON_SLOT_COUNT = 4096;

export function daemonPoolOptions(overrides: PoolOptions = {}): PoolOptions {
  return { slotCount: DAEMON_SLOT_COUNT, slotSize: LARGE_SLOT_SIZE, headroom: DAEMON_HEADROOM, tailroom: DAEMON_TAILROOM, ...overrides };
}
