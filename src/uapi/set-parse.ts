/**
 * The daemon's reader of a `set=1` operation (wireguard.com/xplatform): the key=value
 * lines between `set=1` and the empty line, into the device model. Strict where wg's own
 * reader of answers is lenient: an unknown key or a bad value refuses the whole operation
 * with the errno to answer (UapiError). Unlike wireguard-go, which applies a set
 * operation line by line, ferry parses and checks the whole operation first and applies
 * nothing of an operation that has an error.
 */
import { isIP } from 'node:net';
import { splitHostPort, type Endpoint } from '../text/endpoint.js';
import { ifNameToIndex } from '../io/ifindex.js';
import { tryParseKeyHex } from '../wireguard/keys.js';
import { UapiErrno, UapiError } from './errors.js';
import { newDevice, newPeer, type Device, type Peer } from './model.js';
import { parsePrefix, type IpPrefix } from '../text/prefix.js';

function uint(value: string, key: string, max: number): number {
  if (!/^\d+$/.test(value)) throw new UapiError(UapiErrno.Invalid, `${key}: "${value}" is not a number`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n > max) throw new UapiError(UapiErrno.Invalid, `${key}: ${value} is out of range (max ${max})`);
  return n;
}

function key(value: string, name: string): Uint8Array {
  const k = tryParseKeyHex(value);
  if (k === null) throw new UapiError(UapiErrno.Invalid, `${name}: not a 64-character hex key`);
  return k;
}

function bool(value: string, name: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new UapiError(UapiErrno.Invalid, `${name}: expected true or false, got "${value}"`);
}

/** Parses "1.2.3.4:51820" or "[fd00::1]:51820" (numeric, as wg sends it after resolving). */
export function parseEndpoint(value: string): Endpoint {
  const split = splitHostPort(value);
  if (split === null) {
    throw new UapiError(UapiErrno.Invalid, value.startsWith('[') ? `endpoint: "${value}" is not [address]:port` : `endpoint: "${value}" has no port`);
  }
  let host = split.host;
  const port = split.port;
  let scopeId: number | undefined;
  const pct = host.indexOf('%');
  if (pct >= 0) {
    const zone = host.slice(pct + 1);
    // wg sends the interface name (fe80::1%eth0); numeric scope ids are accepted too.
    const index = /^\d+$/.test(zone) ? Number(zone) : ifNameToIndex(zone);
    if (index === null) throw new UapiError(UapiErrno.Invalid, `endpoint: no interface "${zone.slice(0, 16)}" for the scope`);
    scopeId = index;
    host = host.slice(0, pct);
  }
  const family = isIP(host);
  if (family === 0) throw new UapiError(UapiErrno.Invalid, `endpoint: "${host}" is not an IP address`);
  const p = uint(port, 'endpoint port', 65535);
  const ep: Endpoint = { family: family as 4 | 6, address: host, port: p };
  if (scopeId !== undefined && family === 6) ep.scopeId = scopeId;
  return ep;
}

/**
 * Parses the lines of a set operation (after `set=1`, before the empty line).
 * Throws UapiError with the errno to answer; returns the whole change otherwise.
 */
export function parseSet(lines: readonly string[]): Device {
  const change = newDevice();
  let peer: Peer | null = null;
  for (const line of lines) {
    const eq = line.indexOf('=');
    if (eq <= 0) throw new UapiError(UapiErrno.Protocol, `malformed line "${line.slice(0, 64)}"`);
    const k = line.slice(0, eq);
    const v = line.slice(eq + 1);
    if (k === 'public_key') {
      peer = newPeer(key(v, 'public_key'));
      change.peers.push(peer);
      continue;
    }
    if (peer === null) {
      switch (k) {
        case 'private_key':
          change.privateKey = key(v, 'private_key');
          break;
        case 'listen_port':
          change.listenPort = uint(v, 'listen_port', 65535);
          break;
        case 'fwmark':
          change.fwmark = uint(v, 'fwmark', 0xffffffff);
          break;
        case 'replace_peers':
          change.replacePeers = bool(v, 'replace_peers');
          break;
        default:
          throw new UapiError(UapiErrno.Invalid, `unknown device key "${k.slice(0, 64)}"`);
      }
      continue;
    }
    switch (k) {
      case 'remove':
        peer.remove = bool(v, 'remove');
        break;
      case 'update_only':
        peer.updateOnly = bool(v, 'update_only');
        break;
      case 'preshared_key':
        peer.presharedKey = key(v, 'preshared_key');
        break;
      case 'endpoint':
        peer.endpoint = parseEndpoint(v);
        break;
      case 'persistent_keepalive_interval':
        peer.persistentKeepaliveInterval = uint(v, 'persistent_keepalive_interval', 65535);
        break;
      case 'replace_allowed_ips':
        peer.replaceAllowedIps = bool(v, 'replace_allowed_ips');
        break;
      case 'allowed_ip': {
        const remove = v.startsWith('-');
        const text = remove ? v.slice(1) : v;
        if (!text.includes('/')) throw new UapiError(UapiErrno.Invalid, `allowed_ip: "${v.slice(0, 64)}" has no prefix length`);
        let prefix: IpPrefix;
        try {
          prefix = parsePrefix(text);
        } catch (err) {
          throw new UapiError(UapiErrno.Invalid, (err as Error).message);
        }
        peer.allowedIps.push({ prefix, remove });
        break;
      }
      case 'protocol_version':
        if (v !== '1') throw new UapiError(UapiErrno.Invalid, `protocol_version: only 1 is supported, got "${v.slice(0, 16)}"`);
        break;
      default:
        throw new UapiError(UapiErrno.Invalid, `unknown peer key "${k.slice(0, 64)}"`);
    }
  }
  return change;
}
