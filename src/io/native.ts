/**
 * The raw native addon (build/Release/ferry.node), typed. Nothing here checks
 * arguments beyond what C does (C checks everything and throws TypeError/RangeError);
 * the classes in tun.ts, udp.ts, poll.ts and notify.ts are the API to use.
 *
 * Errors from system calls are SystemError (src/errors.ts): .code is the errno name,
 * .errno the negative errno, .syscall the call that failed.
 */
import { createRequire } from 'node:module';
import { ErrorCode, FerryError } from '../errors.js';

/** Opaque libuv poll handle (a napi external). */
export type PollHandle = { readonly __ferryPollHandle: unique symbol };

export interface TunInfo {
  name: string;
  /** ferry flag bits: TUN_TAP | TUN_VNET_HDR | TUN_MULTI_QUEUE. */
  flags: number;
}

export interface UdpOpenNativeOptions {
  rcvbuf?: number;
  sndbuf?: number;
  mark?: number;
  reuseport?: boolean;
  v6only?: boolean;
  /** Report each datagram's TOS / traffic class in byte 1 of its endpoint record. */
  recvTos?: boolean;
  /** IPv6: accept datagrams with a zero UDP checksum (UDP_NO_CHECK6_RX). */
  zeroChecksum6?: boolean;
  /** Path MTU discovery "do": DF set, never fragmented locally (EMSGSIZE instead). */
  dontFragment?: boolean;
}

export interface NativeIo {
  // --- tun.c
  readonly TUN_TAP: number;
  readonly TUN_VNET_HDR: number;
  readonly TUN_MULTI_QUEUE: number;
  /** Opens /dev/net/tun (non-blocking, close-on-exec), IFF_TUN|IFF_NO_PI unless TUN_TAP. "" lets the kernel name it. */
  tunOpen(name: string, flags: number): TunInfo & { fd: number };
  /** TUNGETIFF on the fd: still right after the device moved to another namespace. */
  tunGetInfo(fd: number): TunInfo;
  /**
   * Reads up to count packets into slab[offsets[i]..+maxLen). lengths[i] = size, or -1
   * when the read filled all maxLen bytes (possibly truncated: drop it).
   */
  tunReadBatch(fd: number, slab: Uint8Array, offsets: Int32Array, lengths: Int32Array, maxLen: number, count: number): number;
  /** Writes packets; returns how many were accepted; errors[i] = -errno or 0. */
  tunWriteBatch(fd: number, slab: Uint8Array, offsets: Int32Array, lengths: Int32Array, count: number, errors?: Int32Array): number;
  /** SIOCSIFMTU / SIOCGIFMTU / SIOCSIFFLAGS in the caller's current namespace. */
  linkSetMtu(name: string, mtu: number): void;
  linkGetMtu(name: string): number;
  linkSetUp(name: string, up: boolean): void;

  // --- udp.c
  /** Largest batch one recvmmsg/sendmmsg call carries; longer batches go in chunks. */
  readonly UDP_MAX_BATCH: number;
  /** A bound, non-blocking, close-on-exec UDP socket; family 6 is dual-stack unless v6only. */
  udpOpen(family: 4 | 6, address: string, port: number, options?: UdpOpenNativeOptions): number;
  udpLocalPort(fd: number): number;
  udpSetMark(fd: number, mark: number): void;
  /**
   * recvmmsg into slab[offsets[i]..+maxLen), senders into endpoints[i*24..]. lengths[i]
   * is -1 for a datagram longer than maxLen (truncated: drop it).
   */
  udpRecvBatch(
    fd: number,
    slab: Uint8Array,
    offsets: Int32Array,
    lengths: Int32Array,
    endpoints: Uint8Array,
    maxLen: number,
    count: number,
  ): number;
  /**
   * sendmmsg; returns how many were sent. errors[i] = -errno for a datagram the kernel
   * refused (the batch goes on) or -EAGAIN for every datagram from a full send buffer on.
   */
  udpSendBatch(
    fd: number,
    slab: Uint8Array,
    offsets: Int32Array,
    lengths: Int32Array,
    endpoints: Uint8Array,
    count: number,
    errors?: Int32Array,
  ): number;
  closeFd(fd: number): void;

  // --- poll.c
  /** events: 1 readable, 2 writable. callback(status < 0 on error, events). */
  pollStart(fd: number, events: number, callback: (status: number, events: number) => void, ref?: boolean): PollHandle;
  /** events 0 pauses. */
  pollUpdate(handle: PollHandle, events: number): void;
  pollRef(handle: PollHandle, ref: boolean): void;
  /** Stops callbacks and closes the handle; idempotent. Call before closing the fd. */
  pollStop(handle: PollHandle): void;

  // --- notify.c
  /** Sends state to socketPath (default $NOTIFY_SOCKET); false when there is none. */
  sdNotify(state: string, socketPath?: string): boolean;
}

let cached: NativeIo | undefined;

/** The addon, loaded once. Throws FerryError(NativeMissing) when it was not built. */
export function loadNative(): NativeIo {
  if (cached === undefined) cached = loadAddon() as NativeIo;
  return cached;
}

let addon: unknown;

/**
 * The addon module itself, loaded once for every typed front door (src/io for I/O,
 * src/crypto for the AEAD kernels). Throws FERRY_NATIVE_MISSING when it is not built.
 */
export function loadAddon(): unknown {
  if (addon !== undefined) return addon;
  const require = createRequire(import.meta.url);
  try {
    // Same relative path from src/io/*.ts (tsx) and dist/io/*.js.
    addon = require('../../build/Release/ferry.node') as unknown;
  } catch (err) {
    throw new FerryError(ErrorCode.NativeMissing, `native addon build/Release/ferry.node could not be loaded (${(err as Error).message}); run npm run build`, {
      cause: err,
    });
  }
  return addon;
}
