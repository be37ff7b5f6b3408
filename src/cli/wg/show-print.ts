/**
 * The three ways `wg show` prints a device (show.c): the pretty form for people
 * (pretty_print), `dump` (tab-separated, everything) and the single fields
 * (ugly_print: `listen-port`, `endpoints`, …). Output is byte-identical to wg's.
 */
import { formatKeyBase64 } from '../../wireguard/keys.js';
import { formatPrefix } from '../../text/prefix.js';
import { formatWgEndpoint } from '../../uapi/endpoint.js';
import type { Device, Peer } from '../../uapi/model.js';
import { ago, every, filterAnsi, formatBytes, Term } from './format.js';

const key = formatKeyBase64;

function maybeKey(k: Uint8Array | undefined): string {
  return k === undefined ? '(none)' : key(k);
}

function maskedKey(k: Uint8Array, env: NodeJS.ProcessEnv): string {
  return env.WG_HIDE_KEYS === 'never' ? key(k) : '(hidden)';
}

function hex(n: number): string {
  return (n >>> 0).toString(16);
}

/** show.c peer_cmp: most recent handshake first, peers without one last (stable for ties). */
export function sortPeers(peers: Peer[]): Peer[] {
  const sec = (p: Peer) => p.lastHandshakeSec ?? 0n;
  const nsec = (p: Peer) => p.lastHandshakeNsec ?? 0n;
  const none = (p: Peer) => sec(p) === 0n && nsec(p) === 0n;
  return [...peers].sort((a, b) => {
    if (none(a) && !none(b)) return 1;
    if (none(b) && !none(a)) return -1;
    let diff = sec(a) - sec(b);
    if (diff === 0n) diff = nsec(a) - nsec(b);
    return diff < 0n ? 1 : diff > 0n ? -1 : 0;
  });
}

interface PrettyOptions {
  env: NodeJS.ProcessEnv;
  color: boolean;
  /** time(NULL) when printing. */
  nowSec: bigint;
}

/** pretty_print(): each piece is one terminal_printf, filtered when not in colour. */
export function prettyPrint(name: string, dev: Device, o: PrettyOptions): string {
  const { RESET, BOLD, GREEN, YELLOW, CYAN } = Term;
  const pieces: string[] = [];
  const p = (s: string) => pieces.push(s);
  const field = (name: string, value: string) => p(`  ${BOLD}${name}${RESET}: ${value}\n`);
  p(RESET);
  p(`${GREEN}${BOLD}interface${RESET}: ${GREEN}${name}${RESET}\n`);
  if (dev.publicKey !== undefined) field('public key', key(dev.publicKey));
  if (dev.privateKey !== undefined) field('private key', maskedKey(dev.privateKey, o.env));
  if (dev.listenPort) field('listening port', String(dev.listenPort));
  if (dev.fwmark) field('fwmark', `0x${hex(dev.fwmark)}`);
  const peers = sortPeers(dev.peers);
  if (peers.length > 0) p('\n');
  peers.forEach((peer, i) => {
    p(`${YELLOW}${BOLD}peer${RESET}: ${YELLOW}${key(peer.publicKey)}${RESET}\n`);
    if (peer.presharedKey !== undefined) field('preshared key', maskedKey(peer.presharedKey, o.env));
    if (peer.endpoint !== undefined) field('endpoint', formatWgEndpoint(peer.endpoint));
    p(`  ${BOLD}allowed ips${RESET}: `);
    if (peer.allowedIps.length > 0) {
      peer.allowedIps.forEach(({ prefix }, j) => p(`${formatPrefix(prefix).replace('/', `${CYAN}/${RESET}`)}${j + 1 < peer.allowedIps.length ? ', ' : '\n'}`));
    } else p('(none)\n');
    if (peer.lastHandshakeSec) field('latest handshake', ago(peer.lastHandshakeSec, o.nowSec));
    if (peer.rxBytes || peer.txBytes) {
      p(`  ${BOLD}transfer${RESET}: `);
      p(`${formatBytes(peer.rxBytes ?? 0n)} received, `);
      p(`${formatBytes(peer.txBytes ?? 0n)} sent\n`);
    }
    if (peer.persistentKeepaliveInterval) field('persistent keepalive', every(peer.persistentKeepaliveInterval));
    if (i + 1 < peers.length) p('\n');
  });
  return (o.color ? pieces : pieces.map(filterAnsi)).join('');
}

function endpointText(peer: Peer): string {
  return peer.endpoint === undefined ? '(none)' : formatWgEndpoint(peer.endpoint);
}

function allowedIpsText(peer: Peer, sep: string): string {
  if (peer.allowedIps.length === 0) return '(none)';
  return peer.allowedIps.map((a) => formatPrefix(a.prefix)).join(sep);
}

function keepaliveText(peer: Peer): string {
  return peer.persistentKeepaliveInterval ? String(peer.persistentKeepaliveInterval) : 'off';
}

/** dump_print(): one line for the interface, one per peer, tab-separated. */
export function dumpPrint(name: string, dev: Device, withInterface: boolean): string {
  const pre = withInterface ? `${name}\t` : '';
  let out = `${pre}${maybeKey(dev.privateKey)}\t${maybeKey(dev.publicKey)}\t${dev.listenPort ?? 0}\t${dev.fwmark ? `0x${hex(dev.fwmark)}` : 'off'}\n`;
  for (const peer of dev.peers) {
    out +=
      `${pre}${key(peer.publicKey)}\t${maybeKey(peer.presharedKey)}\t${endpointText(peer)}\t${allowedIpsText(peer, ',')}\t` +
      `${peer.lastHandshakeSec ?? 0n}\t${peer.rxBytes ?? 0n}\t${peer.txBytes ?? 0n}\t${keepaliveText(peer)}\n`;
  }
  return out;
}

/** ugly_print(): one field; null when the field name is unknown. */
export function uglyPrint(name: string, dev: Device, param: string, withInterface: boolean): string | null {
  const pre = withInterface ? `${name}\t` : '';
  const perPeer = (f: (peer: Peer) => string) => dev.peers.map((peer) => `${pre}${key(peer.publicKey)}\t${f(peer)}\n`).join('');
  switch (param) {
    case 'public-key':
      return `${pre}${maybeKey(dev.publicKey)}\n`;
    case 'private-key':
      return `${pre}${maybeKey(dev.privateKey)}\n`;
    case 'listen-port':
      return `${pre}${dev.listenPort ?? 0}\n`;
    case 'fwmark':
      return `${pre}${dev.fwmark ? `0x${hex(dev.fwmark)}` : 'off'}\n`;
    case 'endpoints':
      // 1.0.20210914 prints the interface name once, before the first peer (and so leaves
      // "name\t" without a newline for an interface without peers).
      return pre + dev.peers.map((peer) => `${key(peer.publicKey)}\t${endpointText(peer)}\n`).join('');
    case 'allowed-ips':
      return perPeer((peer) => allowedIpsText(peer, ' '));
    case 'latest-handshakes':
      return perPeer((peer) => String(peer.lastHandshakeSec ?? 0n));
    case 'transfer':
      return perPeer((peer) => `${peer.rxBytes ?? 0n}\t${peer.txBytes ?? 0n}`);
    case 'persistent-keepalive':
      return perPeer(keepaliveText);
    case 'preshared-keys':
      return perPeer((peer) => maybeKey(peer.presharedKey));
    case 'peers':
      return dev.peers.map((peer) => `${pre}${key(peer.publicKey)}\n`).join('');
    case 'dump':
      return dumpPrint(name, dev, withInterface);
    default:
      return null;
  }
}
