/**
 * The value parsers of wg(8)'s config.c, shared by `set` arguments and config files, with
 * its exact acceptance rules and messages ("Fwmark is neither 0/off nor 0-0xffffffff: `x'").
 * Each returns null after printing its message on stderr, as wg does.
 */
import { fwmarkValue, keepaliveValue } from '../../config/value-rules.js';
import { tryParseKeyBase64 } from '../../wireguard/keys.js';
import type { CliIo } from './cli-io.js';
import { splitHostPort, type Endpoint } from '../../text/endpoint.js';
import { gaiStrerror, Gai } from '../../text/errno.js';
import { parseIpv4, parseIpv6 } from '../../text/ip.js';
import { hasHostBits, type IpPrefix } from '../../text/prefix.js';
import type { Peer } from '../../uapi/model.js';
import { getaddrinfo, servicePort } from './resolve.js';

/** Thrown where wg calls exit() in the middle of parsing. */
export class ExitError extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** parse_port(): getaddrinfo(NULL, value) for the UDP service. */
export function parsePort(io: CliIo, value: string): number | null {
  if (value.length === 0) {
    io.err('Unable to parse empty port\n');
    return null;
  }
  const port = servicePort(value);
  if (port === null) io.err(`${gaiStrerror(Gai.SERVICE)}: \`${value}'\n`);
  return port;
}

/** parse_fwmark(): "off", decimal, or 0x-prefixed hex, at most 0xffffffff. */
export function parseFwmark(io: CliIo, value: string): number | null {
  const mark = fwmarkValue(value);
  if (mark === null) io.err(`Fwmark is neither 0/off nor 0-0xffffffff: \`${value}'\n`);
  return mark;
}

/** parse_key(): exactly wg's base64 form (key_from_base64). */
export function parseKey(io: CliIo, value: string): Uint8Array | null {
  const key = tryParseKeyBase64(value);
  if (key === null) io.err(`Key is not the correct length or format: \`${value}'\n`);
  return key;
}

/** parse_persistent_keepalive(): "off" or 0-65535. */
export function parsePersistentKeepalive(io: CliIo, value: string): number | null {
  const interval = keepaliveValue(value);
  if (interval === null) io.err(`Persistent keepalive interval is neither 0/off nor 1-65535: \`${value}'\n`);
  return interval;
}

/** parse_ip(): IPv6 when the text has a ':', else IPv4, through inet_pton. */
function parseIp(io: CliIo, value: string): Omit<IpPrefix, 'cidr'> | null {
  const v6 = value.includes(':');
  const bytes = v6 ? parseIpv6(value) : parseIpv4(value);
  if (bytes === null) {
    io.err(`Unable to parse IP address: \`${value}'\n`);
    return null;
  }
  return { family: v6 ? 6 : 4, bytes };
}

/**
 * parse_allowedips(): a comma-separated list (spaces already removed); "" only sets
 * "replace". 1.0.20210914 has no +/- prefixes: "+10.0.0.0/8" is not an IP address.
 */
export function parseAllowedIps(io: CliIo, peer: Peer, value: string): boolean {
  peer.replaceAllowedIps = true;
  if (value.length === 0) return true;
  for (const entry of value.split(',')) {
    const slash = entry.indexOf('/');
    const ipText = slash < 0 ? entry : entry.slice(0, slash);
    const mask = slash < 0 ? null : entry.slice(slash + 1);
    const ip = parseIp(io, ipText);
    if (ip === null) return false;
    let cidr: number;
    if (mask !== null) {
      const max = ip.family === 4 ? 32n : 128n;
      if (!/^[0-9]+$/.test(mask) || BigInt(mask) > max) {
        io.err(`AllowedIP is not in the correct format: \`${entry}'\n`);
        return false;
      }
      cidr = Number(mask);
    } else cidr = ip.family === 4 ? 32 : 128;
    const prefix: IpPrefix = { ...ip, cidr };
    // validate_netmask()
    if (hasHostBits(prefix)) io.err(`Warning: AllowedIP has nonzero host part: ${ipText}/${mask}\n`);
    peer.allowedIps.push({ prefix, remove: false });
  }
  return true;
}

/** WG_ENDPOINT_RESOLUTION_RETRIES: 15 by default, -1 for "infinity". */
function dnsRetries(io: CliIo): number {
  const v = io.env.WG_ENDPOINT_RESOLUTION_RETRIES;
  if (v === undefined) return 15;
  if (v === 'infinity') return -1;
  if (!/^[ \t\n\v\f\r]*\+?[0-9]+$/.test(v) || BigInt(v.trim()) > 0x7fffffffn) {
    io.err(`Unable to parse WG_ENDPOINT_RESOLUTION_RETRIES: \`${v}'\n`);
    throw new ExitError(1);
  }
  return Number(v.trim());
}

const PERMANENT = new Set<number>([Gai.NONAME, Gai.FAIL, Gai.NODATA]);

/** parse_endpoint(): "host:port" or "[v6]:port", resolved now, retrying transient failures. */
export async function parseEndpoint(io: CliIo, value: string, sleep = defaultSleep): Promise<Endpoint | null> {
  let retries = dnsRetries(io);
  if (value.length === 0) {
    io.err('Unable to parse empty endpoint\n');
    return null;
  }
  const split = splitHostPort(value);
  if (split === null && value[0] === '[' && !value.includes(']')) {
    io.err(`Unable to find matching brace of endpoint: \`${value}'\n`);
    return null;
  }
  if (split === null || split.port === '') {
    io.err(`Unable to find port of endpoint: \`${value}'\n`);
    return null;
  }
  const { host, port } = split;
  for (let timeout = 1_000_000; ; timeout = Math.min(20_000_000, Math.floor((timeout * 6) / 5))) {
    const r = await getaddrinfo(host, port);
    if (r.ok) return r.addr;
    if (PERMANENT.has(r.code) || (retries >= 0 && retries-- === 0)) {
      io.err(`${gaiStrerror(r.code)}: \`${value}'\n`);
      return null;
    }
    io.err(`${gaiStrerror(r.code)}: \`${value}'. Trying again in ${(timeout / 1_000_000).toFixed(2)} seconds...\n`);
    await sleep(timeout / 1000);
  }
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
