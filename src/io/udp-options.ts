/**
 * What a UDP socket is opened with (UdpSocket.open), checked, with the defaults filled in
 * and the socket options in the shape native/src/udp_socket.c reads.
 */
import type { BufferPool } from '../buffer/pool.js';
import { ErrorCode, FerryError } from '../errors.js';
import type { UdpOpenNativeOptions } from './native.js';
import { DEFAULT_RESERVE } from './reserve.js';

export interface UdpOpenOptions {
  pool: BufferPool;
  family: 4 | 6;
  /** Local address to bind; default the wildcard ("0.0.0.0" or "::"). "fe80::1%eth0" names a scope. */
  address?: string;
  /** Local port; default 0 (the kernel picks, see localPort). */
  port?: number;
  /** SO_RCVBUF / SO_SNDBUF in bytes (forced past the sysctl limit when privileged). */
  rcvbuf?: number;
  sndbuf?: number;
  /** SO_MARK (needs CAP_NET_ADMIN): keeps tunnel traffic out of the tunnel's own routes. */
  mark?: number;
  reuseport?: boolean;
  /** IPv6 only (family 6): refuse IPv4 peers. Default false (dual-stack). */
  v6only?: boolean;
  /** Slots kept for receiving (default 128, at most the pool's slot count). */
  reserve?: number;
  /**
   * UDP GSO (UDP_SEGMENT) on send. Default true; stays off where the kernel lacks it.
   * A run refused for its size teaches a size limit above which datagrams go out alone
   * (`gsoSizeLimit`); a refusal of GSO itself turns it off for good (see `gso`).
   */
  gso?: boolean;
  /**
   * UDP GRO (UDP_GRO) on receive. Default true; off where the kernel lacks it. Costs a
   * 4 MiB ring per socket (virtual: pages are touched only as coalesced data arrives).
   */
  gro?: boolean;
  /**
   * Send IPv4 datagrams with a zero UDP checksum (SO_NO_CHECK), as VXLAN commonly does
   * (RFC 7348 §5). The kernel refuses GSO on such a socket, so GSO falls back on first use.
   */
  noChecksum?: boolean;
  /**
   * Report each received datagram's outer TOS (IPv4) or traffic class (IPv6) in byte 1
   * of its endpoint record (IP_RECVTOS, IPV6_RECVTCLASS): VXLAN decapsulates ECN from it
   * (RFC 6040). Default false (byte 1 is then 0). Whatever the option, a send whose
   * record has a non-zero byte 1 goes out with that TOS.
   */
  recvTos?: boolean;
  /**
   * IPv6 only: accept datagrams whose UDP checksum is zero (UDP_NO_CHECK6_RX), which RFC
   * 6935/6936 allow for tunnels (Linux's vxlan udp6zerocsumtx). Default false: the kernel
   * drops them, as RFC 8200 says for UDP in general.
   */
  zeroChecksum6?: boolean;
  /**
   * Never fragment (IP_PMTUDISC_DO / IPV6_PMTUDISC_DO): DF on every IPv4 datagram, and a
   * datagram over the path MTU is refused with EMSGSIZE instead of fragmented locally.
   * Default false: the kernel's default (DF while the datagram fits the path MTU).
   */
  dontFragment?: boolean;
  /**
   * Bind even when the host does not have the address yet (IP_FREEBIND): an underlay
   * address that comes up after the daemon, such as the interface's own. Default false.
   */
  freebind?: boolean;
}

interface CheckedUdpOpen {
  family: 4 | 6;
  address: string;
  port: number;
  reserveSize: number;
  nativeOptions: UdpOpenNativeOptions;
}

/** Throws FerryError(InvalidArgument) for a missing pool, a bad family or a non-boolean switch. */
export function checkUdpOpenOptions(options: UdpOpenOptions): CheckedUdpOpen {
  if (options === null || typeof options !== 'object' || options.pool === undefined) {
    throw new FerryError(ErrorCode.InvalidArgument, 'UdpSocket.open needs options.pool');
  }
  const { family } = options;
  if (family !== 4 && family !== 6) throw new FerryError(ErrorCode.InvalidArgument, `UDP family must be 4 or 6, got ${String(family)}`);
  for (const k of ['gso', 'gro', 'noChecksum', 'recvTos', 'zeroChecksum6', 'dontFragment', 'freebind'] as const) {
    const v = options[k];
    if (v !== undefined && typeof v !== 'boolean') throw new FerryError(ErrorCode.InvalidArgument, `UDP option ${k} must be a boolean`);
  }
  return {
    family,
    address: options.address ?? (family === 4 ? '0.0.0.0' : '::'),
    port: options.port ?? 0,
    reserveSize: options.reserve ?? Math.min(DEFAULT_RESERVE, options.pool.slotCount),
    nativeOptions: {
      rcvbuf: options.rcvbuf,
      sndbuf: options.sndbuf,
      mark: options.mark,
      reuseport: options.reuseport,
      v6only: options.v6only,
      noChecksum: options.noChecksum,
      recvTos: options.recvTos,
      zeroChecksum6: options.zeroChecksum6,
      dontFragment: options.dontFragment,
      freebind: options.freebind,
    },
  };
}
