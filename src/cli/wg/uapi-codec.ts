/**
 * The UAPI text as wg(8) writes and reads it (ipc-uapi.h userspace_set_device and
 * userspace_get_device): the same lines in the same order, and the same tolerance when
 * reading (unknown keys are skipped; a malformed line or a missing end is EPROTO).
 */
import { publicKeyFromPrivate, formatKeyHex, tryParseKeyHex } from '../../wireguard/keys.js';
import { newDevice, newPeer, type WgDevice, type WgPeer } from './device.js';
import { Errno } from './errno.js';
import { formatIp, parseIpv4, parseIpv6 } from '../../text/ip.js';
import { formatSockAddr } from './sockaddr.js';
import { numericHost } from './resolve.js';
import { splitHostPort } from '../../text/endpoint.js';

/** The whole `set=1` request, ending with the empty line. */
export function formatSetRequest(dev: WgDevice): string {
  const out: string[] = ['set=1'];
  if (dev.privateKey !== null) out.push(`private_key=${formatKeyHex(dev.privateKey)}`);
  if (dev.listenPort !== null) out.push(`listen_port=${dev.listenPort}`);
  if (dev.fwmark !== null) out.push(`fwmark=${dev.fwmark >>> 0}`);
  if (dev.replacePeers) out.push('replace_peers=true');
  for (const peer of dev.peers) {
    out.push(`public_key=${formatKeyHex(peer.publicKey)}`);
    if (peer.remove) {
      out.push('remove=true');
      continue;
    }
    if (peer.presharedKey !== null) out.push(`preshared_key=${formatKeyHex(peer.presharedKey)}`);
    if (peer.endpoint !== null) out.push(`endpoint=${formatSockAddr(peer.endpoint)}`);
    if (peer.persistentKeepalive !== null) out.push(`persistent_keepalive_interval=${peer.persistentKeepalive}`);
    if (peer.replaceAllowedIps) out.push('replace_allowed_ips=true');
    for (const a of peer.allowedIps) out.push(`allowed_ip=${formatIp(a.family, a.addr)}/${a.cidr}`);
  }
  return `${out.join('\n')}\n\n`;
}

const U64_MAX = (1n << 64n) - 1n;

/** wg's NUM(max): digits only (strtoull saturates), at most max; null makes the reader stop. */
function num(value: string, max: bigint): bigint | null {
  if (!/^[0-9]+$/.test(value)) return null;
  let n = BigInt(value);
  if (n > U64_MAX) n = U64_MAX;
  return n > max ? null : n;
}

/** "host:port" or "[host]:port" from the daemon, resolved numerically. */
function parseEndpoint(value: string): WgPeer['endpoint'] | undefined {
  const split = splitHostPort(value);
  if (split === null || split.port === '') return undefined;
  const { host, port } = split;
  const h = numericHost(host);
  if (h === null || !/^[0-9]+$/.test(port)) return null;
  return { ...h, port: Number(BigInt(port) & 0xffffn) };
}

export type GetResult = { device: WgDevice; errno: 0 } | { device: null; errno: number };

/**
 * Reads a `get=1` answer (everything the daemon sent) as wg does. errno is positive;
 * an answer whose errno line is not a plain number (wireguard-go writes "errno=-5") is
 * EPROTO, exactly as wg reports it.
 */
export function parseGetResponse(name: string, text: string): GetResult {
  const dev = newDevice(name);
  let peer: WgPeer | null = null;
  let errno: number = Errno.EPROTO;
  const fail: GetResult = { device: null, errno: Errno.EPROTO };
  let pos = 0;
  for (;;) {
    if (pos >= text.length) return fail;
    const nl = text.indexOf('\n', pos);
    if (nl < 0) return fail;
    const line = text.slice(pos, nl);
    pos = nl + 1;
    if (line === '') return errno === 0 ? { device: dev, errno: 0 } : { device: null, errno };
    const eq = line.indexOf('=');
    if (eq < 0) return fail;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (peer === null && key === 'private_key') {
      const k = tryParseKeyHex(value);
      if (k === null) return fail;
      dev.privateKey = k;
      dev.publicKey = publicKeyFromPrivate(k);
    } else if (peer === null && key === 'listen_port') {
      const n = num(value, 0xffffn);
      if (n === null) return fail;
      dev.listenPort = Number(n);
    } else if (peer === null && key === 'fwmark') {
      const n = num(value, 0xffffffffn);
      if (n === null) return fail;
      dev.fwmark = Number(n);
    } else if (key === 'public_key') {
      const k = tryParseKeyHex(value);
      if (k === null) return fail;
      peer = newPeer(k);
      dev.peers.push(peer);
    } else if (peer !== null && key === 'preshared_key') {
      const k = tryParseKeyHex(value);
      if (k === null) return fail;
      peer.presharedKey = k.some((b) => b !== 0) ? k : null;
    } else if (peer !== null && key === 'endpoint') {
      const ep = parseEndpoint(value);
      if (ep === undefined) return fail;
      if (ep === null) return { device: null, errno: Errno.ENETUNREACH };
      peer.endpoint = ep;
    } else if (peer !== null && key === 'persistent_keepalive_interval') {
      const n = num(value, 0xffffn);
      if (n === null) return fail;
      peer.persistentKeepalive = Number(n);
    } else if (peer !== null && key === 'allowed_ip') {
      const slash = value.indexOf('/');
      if (slash < 0) return fail;
      const ip = value.slice(0, slash);
      const mask = value.slice(slash + 1);
      if (!/^[0-9]+$/.test(mask)) return fail;
      const v6 = ip.includes(':');
      const addr = v6 ? parseIpv6(ip) : parseIpv4(ip);
      // wg stores strtoul's result in a uint8_t before checking the range.
      let big = BigInt(mask);
      if (big > U64_MAX) big = U64_MAX;
      const cidr = Number(big & 0xffn);
      if (addr === null || cidr > (v6 ? 128 : 32)) return fail;
      peer.allowedIps.push({ family: v6 ? 6 : 4, addr, cidr });
    } else if (peer !== null && key === 'last_handshake_time_sec') {
      const n = num(value, 0x7fffffffffffffffn);
      if (n === null) return fail;
      peer.lastHandshakeSec = n;
    } else if (peer !== null && key === 'last_handshake_time_nsec') {
      const n = num(value, 0x7fffffffffffffffn);
      if (n === null) return fail;
      peer.lastHandshakeNsec = n;
    } else if (peer !== null && key === 'rx_bytes') {
      const n = num(value, U64_MAX);
      if (n === null) return fail;
      peer.rxBytes = n;
    } else if (peer !== null && key === 'tx_bytes') {
      const n = num(value, U64_MAX);
      if (n === null) return fail;
      peer.txBytes = n;
    } else if (key === 'errno') {
      const n = num(value, 0x7fffffffn);
      if (n === null) return fail;
      errno = Number(n);
    }
  }
}

/**
 * Reads a `set=1` answer as wg's fscanf("errno=%d\n\n") does: a signed number; wg reports
 * its negation. Anything else is EPROTO. Returns a positive errno or 0.
 */
export function parseSetResponse(text: string): number {
  const m = /^errno=\s*([+-]?[0-9]+)/.exec(text);
  if (m === null) return Errno.EPROTO;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? -n | 0 : Errno.EPROTO;
}
