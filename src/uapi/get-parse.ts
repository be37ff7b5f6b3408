/**
 * Reads a UAPI `get=1` answer into the device model exactly as wg(8) reads it
 * (ipc-uapi.h userspace_get_device): the same tolerance (unknown keys are skipped) and
 * the same failures (a malformed line, a bad number or a missing end is EPROTO; an
 * endpoint that is not numeric is ENETUNREACH). The wg verbs, the wg-quick verbs and the
 * CLI all read the running device through this one reader.
 */
import { Errno } from '../text/errno.js';
import { splitHostPort, type Endpoint } from '../text/endpoint.js';
import { parseIpv4, parseIpv6 } from '../text/ip.js';
import { publicKeyFromPrivate, tryParseKeyHex } from '../wireguard/keys.js';
import { numericHost } from './endpoint.js';
import { newDevice, newPeer, type Device, type Peer } from './model.js';

const U64_MAX = (1n << 64n) - 1n;

/** wg's NUM(max): digits only (strtoull saturates), at most max; null makes the reader stop. */
function num(value: string, max: bigint): bigint | null {
  if (!/^[0-9]+$/.test(value)) return null;
  let n = BigInt(value);
  if (n > U64_MAX) n = U64_MAX;
  return n > max ? null : n;
}

/** "host:port" or "[host]:port" from the daemon: undefined is malformed, null is not numeric. */
function parseEndpoint(value: string): Endpoint | null | undefined {
  const split = splitHostPort(value);
  if (split === null || split.port === '') return undefined;
  const h = numericHost(split.host);
  if (h === null || !/^[0-9]+$/.test(split.port)) return null;
  return { ...h, port: Number(BigInt(split.port) & 0xffffn) };
}

type GetResult = { device: Device; errno: 0 } | { device: null; errno: number };

/**
 * Reads a `get=1` answer (everything the daemon sent). errno is positive; an answer whose
 * errno line is not a plain number (wireguard-go writes "errno=-5") is EPROTO, exactly as
 * wg reports it.
 */
export function parseGet(text: string): GetResult {
  const dev = newDevice();
  let peer: Peer | null = null;
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
      if (k.some((b) => b !== 0)) peer.presharedKey = k;
      else delete peer.presharedKey;
    } else if (peer !== null && key === 'endpoint') {
      const ep = parseEndpoint(value);
      if (ep === undefined) return fail;
      if (ep === null) return { device: null, errno: Errno.ENETUNREACH };
      peer.endpoint = ep;
    } else if (peer !== null && key === 'persistent_keepalive_interval') {
      const n = num(value, 0xffffn);
      if (n === null) return fail;
      peer.persistentKeepaliveInterval = Number(n);
    } else if (peer !== null && key === 'allowed_ip') {
      const slash = value.indexOf('/');
      if (slash < 0) return fail;
      const ip = value.slice(0, slash);
      const mask = value.slice(slash + 1);
      if (!/^[0-9]+$/.test(mask)) return fail;
      const v6 = ip.includes(':');
      const bytes = v6 ? parseIpv6(ip) : parseIpv4(ip);
      // wg stores strtoul's result in a uint8_t before checking the range.
      let big = BigInt(mask);
      if (big > U64_MAX) big = U64_MAX;
      const cidr = Number(big & 0xffn);
      if (bytes === null || cidr > (v6 ? 128 : 32)) return fail;
      peer.allowedIps.push({ prefix: { family: v6 ? 6 : 4, bytes, cidr }, remove: false });
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
export function parseSetAnswer(text: string): number {
  const m = /^errno=\s*([+-]?[0-9]+)/.exec(text);
  if (m === null) return Errno.EPROTO;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? -n | 0 : Errno.EPROTO;
}
