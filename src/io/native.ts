/**
 * The raw native addon (build/Release/ferry.node), typed. Nothing here checks
 * arguments beyond what C does (C checks everything and throws TypeError/RangeError);
 * the classes in tun.ts, udp.ts, poll.ts and notify.ts are the API to use.
 *
 * Errors from system calls are SystemError (src/errors.ts): .code is the errno name,
 * .errno the negative errno, .syscall the call that failed.
 */
import { loadAddon } from '../native/addon.js';

/** Opaque libuv poll handle (a napi external). */
export type PollHandle = { readonly __ferryPollHandle: unique symbol };

interface TunInfo {
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
  noChecksum?: boolean;
  /** Report each datagram's TOS / traffic class in byte 1 of its endpoint record. */
  recvTos?: boolean;
  /** IPv6: accept datagrams with a zero UDP checksum (UDP_NO_CHECK6_RX). */
  zeroChecksum6?: boolean;
  /** Path MTU discovery "do": DF set, never fragmented locally (EMSGSIZE instead). */
  dontFragment?: boolean;
  /** Bind an address the host does not have yet (IP_FREEBIND). */
  freebind?: boolean;
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
  /** Entries of a receive status array: [0] errors survived in the call, [1] -errno of the last. */
  readonly IO_STATUS_LENGTH: number;
  /**
   * Reads up to count packets into slab[offsets[i]..+maxLen). lengths[i] = size, or -1
   * when the read filled all maxLen bytes (possibly truncated: drop it). A fatal error
   * (device gone: EBADFD; bad fd or buffer) throws when nothing was read; any other ends
   * the call and is reported in status, never thrown.
   */
  tunReadBatch(fd: number, slab: Uint8Array, offsets: Int32Array, lengths: Int32Array, maxLen: number, count: number, status?: Int32Array): number;
  /** Writes packets; returns how many were accepted; errors[i] = -errno or 0. */
  tunWriteBatch(fd: number, slab: Uint8Array, offsets: Int32Array, lengths: Int32Array, count: number, errors?: Int32Array): number;
  // --- tun_offload.c
  /** TUNSETOFFLOAD bits (linux/if_tun.h; USO from Linux 6.2). */
  readonly TUN_F_CSUM: number;
  readonly TUN_F_TSO4: number;
  readonly TUN_F_TSO6: number;
  readonly TUN_F_USO4: number;
  readonly TUN_F_USO6: number;
  /** Most iovecs one tunWritevBatch group may have. */
  readonly TUN_WRITEV_MAX_IOV: number;
  /**
   * TUNSETOFFLOAD on a TUN opened with TUN_VNET_HDR: returns the flags accepted (the set
   * without USO when only that was refused), or -errno when the kernel refused them.
   */
  tunSetOffload(fd: number, flags: number): number;
  /**
   * One writev per group g: the iovecs [groupIovStart[g], +groupIovCount[g]) of
   * (iovOffsets, iovLengths) into the slab. results[g] = 0 or -errno (never thrown; only a
   * bad fd throws). Returns the groups written.
   */
  tunWritevBatch(
    fd: number,
    slab: Uint8Array,
    iovOffsets: Int32Array,
    iovLengths: Int32Array,
    groupIovStart: Int32Array,
    groupIovCount: Int32Array,
    groupCount: number,
    results: Int32Array,
  ): number;
  /** SIOCSIFMTU / SIOCGIFMTU / SIOCSIFFLAGS in the caller's current namespace. */
  linkSetMtu(name: string, mtu: number): void;
  linkGetMtu(name: string): number;
  linkSetUp(name: string, up: boolean): void;

  // --- udp_socket.c
  /** Largest batch one recvmmsg/sendmmsg call carries; longer batches go in chunks. */
  readonly UDP_MAX_BATCH: number;
  /** A bound, non-blocking, close-on-exec UDP socket; family 6 is dual-stack unless v6only. */
  udpOpen(family: 4 | 6, address: string, port: number, options?: UdpOpenNativeOptions): number;
  udpLocalPort(fd: number): number;
  udpSetMark(fd: number, mark: number): void;
  /** Bytes of an endpoint record (src/io/endpoint.ts ENDPOINT_STRIDE). */
  readonly UDP_ENDPOINT_STRIDE: number;

  // --- udp_recv.c
  /**
   * recvmmsg into slab[offsets[i]..+maxLen), sender and local address into
   * endpoints[i*48..]. lengths[i] is -1 for a datagram longer than maxLen (truncated:
   * drop it). Only a bad fd, buffer or argument throws (and only when nothing was read);
   * other errors are counted in status and survived.
   */
  udpRecvBatch(fd: number, slab: Uint8Array, offsets: Int32Array, lengths: Int32Array, endpoints: Uint8Array, maxLen: number, count: number, status?: Int32Array): number;

  // --- udp_gro.c
  /** Bytes of a GRO ring (header, records, one 64 KiB buffer per message). */
  readonly UDP_GRO_RING_BYTES: number;
  /** false when the kernel has no UDP_GRO. */
  udpSetGro(fd: number, on: boolean): boolean;
  /** udpRecvBatch through a GRO ring: coalesced messages split into one slot per datagram. */
  udpRecvBatchGro(fd: number, slab: Uint8Array, offsets: Int32Array, lengths: Int32Array, endpoints: Uint8Array, maxLen: number, count: number, ring: Uint8Array, status?: Int32Array): number;

  // --- udp_send.c
  /**
   * sendmmsg; returns how many were sent. errors[i] = -errno for a datagram the kernel
   * refused (the batch goes on) or -EAGAIN for every datagram from a full send buffer on.
   * A datagram leaves from its record's local part when set; a refused source is cleared
   * in endpoints and the datagram retried once without it.
   */
  udpSendBatch(fd: number, slab: Uint8Array, offsets: Int32Array, lengths: Int32Array, endpoints: Uint8Array, count: number, errors?: Int32Array): number;

  // --- udp_gso.c
  /** Entries of the GSO state array (udp_gso.c): see UDP_GSO_* in udp.ts. */
  readonly UDP_GSO_STATE_LENGTH: number;
  readonly UDP_GSO_MAX_SEGMENTS: number;
  udpGsoSupported(fd: number): boolean;
  /** udpSendBatch with UDP GSO while state[0] is 1; the state learns and counts (udp.ts). */
  udpSendBatchGso(fd: number, slab: Uint8Array, offsets: Int32Array, lengths: Int32Array, endpoints: Uint8Array, count: number, errors: Int32Array | undefined, state: Int32Array): number;

  // --- fd.c (TUN devices and UDP sockets)
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

  // --- devnode.c
  /** mknod(path, S_IFCHR | mode, makedev(major, minor)), then chmod(path, mode). */
  makeCharDevice(path: string, major: number, minor: number, mode: number): void;
}

let cached: NativeIo | undefined;

/** The addon, loaded once. Throws FerryError(NativeMissing) when it was not built. */
export function loadNative(): NativeIo {
  if (cached === undefined) cached = loadAddon() as NativeIo;
  return cached;
}
