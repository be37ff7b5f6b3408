/**
 * Value parsers for [FerryLb] and [FerryService] keys. Each throws BadValue naming the
 * key, what was wrong and what is expected; the section reader adds file:line.
 */
import { IPProto } from '../packet/constants.js';
import { Scheduler, type HealthCheckSpec } from '../lb/service.js';
import { CONNTRACK_MAX_LIMIT, DEFAULT_AFFINITY_S, MAX_WEIGHT, endpointName } from '../lb/settings.js';
import { quote } from './issues.js';
import { BadValue } from './values.js';
import { formatIp, parseIp } from '../text/ip.js';
import { type IpPrefix, hasHostBits } from '../text/prefix.js';

const DIGITS = /^\d+$/;

function uintIn(key: string, text: string, min: number, max: number, what = 'a number'): number {
  if (!DIGITS.test(text) || Number(text) < min || Number(text) > max) throw new BadValue(`${key} ${quote(text)} is invalid: expected ${what} ${min}-${max}`);
  return Number(text);
}

export interface ParsedAddress {
  family: 4 | 6;
  bytes: Uint8Array;
  /** Canonical text (as ferry prints it). */
  text: string;
}

/** An IP address without a prefix length or zone, as 16 bytes (IPv4 in the first 4). */
export function parseIpAddress(key: string, text: string): ParsedAddress {
  const ip = parseIp(text);
  if (ip === null) throw new BadValue(`${key} ${quote(text)} is not an IP address`);
  const bytes = new Uint8Array(16);
  bytes.set(ip.bytes);
  return { family: ip.family, bytes, text: formatIp(ip.family, ip.bytes) };
}

function list(value: string): string[] {
  return value.split(/[,\s]+/).filter((w) => w !== '');
}

/** ServiceRange: comma-separated ADDRESS/PREFIX, no host bits. */
export function parseServiceRanges(value: string): IpPrefix[] {
  const out = list(value).map((entry) => {
    const slash = entry.indexOf('/');
    if (slash < 0) throw new BadValue(`ServiceRange entry ${quote(entry)} has no prefix length: expected ADDRESS/PREFIX, e.g. 10.96.0.0/16`);
    const a = parseIpAddress('ServiceRange entry', entry.slice(0, slash));
    const cidr = uintIn('ServiceRange prefix length', entry.slice(slash + 1), 0, a.family === 4 ? 32 : 128);
    const p: IpPrefix = { family: a.family, bytes: a.family === 4 ? a.bytes.slice(0, 4) : a.bytes, cidr };
    if (hasHostBits(p)) throw new BadValue(`ServiceRange entry ${quote(entry)} has bits set past its prefix length: expected a network address`);
    return p;
  });
  if (out.length === 0) throw new BadValue('ServiceRange has no value: expected ADDRESS/PREFIX[, ADDRESS/PREFIX]');
  return out;
}

/** SnatAddress: one address per family at most. */
export function parseSnatAddresses(value: string): ParsedAddress[] {
  const out = list(value).map((w) => parseIpAddress('SnatAddress', w));
  if (out.length === 0) throw new BadValue('SnatAddress has no value: expected an IPv4 and/or an IPv6 address');
  if (out.length > 2 || (out.length === 2 && out[0].family === out[1].family)) throw new BadValue('SnatAddress takes at most one IPv4 and one IPv6 address');
  return out;
}

/** SnatPorts: LOW-HIGH. */
export function parsePortRange(value: string): [number, number] {
  const m = /^(\d+)\s*-\s*(\d+)$/.exec(value);
  if (m === null) throw new BadValue(`SnatPorts ${quote(value)} is invalid: expected LOW-HIGH, e.g. 32768-60999`);
  const lo = uintIn('SnatPorts', m[1], 1, 65535, 'ports');
  const hi = uintIn('SnatPorts', m[2], 1, 65535, 'ports');
  if (lo > hi) throw new BadValue(`SnatPorts ${quote(value)} runs backwards: expected LOW-HIGH with LOW <= HIGH`);
  return [lo, hi];
}

export function parseConntrackMax(value: string): number {
  return uintIn('ConntrackMax', value, 16, CONNTRACK_MAX_LIMIT, 'entries');
}

/** ADDRESS:PORT or [IPV6]:PORT. */
export function parseEndpoint(key: string, text: string): ParsedAddress & { port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  if (m === null) throw new BadValue(`${key} ${quote(text)} is invalid: expected ADDRESS:PORT or [IPV6]:PORT`);
  const a = parseIpAddress(key, m[1]);
  if (a.family === 6 && !text.startsWith('[')) throw new BadValue(`${key} ${quote(text)}: an IPv6 address goes in brackets, [IPV6]:PORT`);
  return { ...a, port: uintIn(`${key} port`, m[2], 1, 65535, 'a port') };
}

export function parseProtocol(value: string): number {
  const v = value.toLowerCase();
  if (v === 'tcp') return IPProto.TCP;
  if (v === 'udp') return IPProto.UDP;
  throw new BadValue(`Protocol ${quote(value)} is invalid: expected tcp or udp`);
}

export function parseScheduler(value: string): number {
  const v = value.toLowerCase();
  if (v === 'maglev') return Scheduler.Maglev;
  if (v === 'random') return Scheduler.Random;
  if (v === 'round-robin') return Scheduler.RoundRobin;
  throw new BadValue(`Scheduler ${quote(value)} is invalid: expected maglev, random or round-robin`);
}

export interface ParsedBackend {
  family: 4 | 6;
  bytes: Uint8Array;
  text: string;
  port: number;
  weight: number;
  drain: boolean;
  name: string;
}

/** Backend: ADDRESS:PORT [weight=N] [drain]. */
export function parseBackend(value: string): ParsedBackend {
  const [first, ...options] = value.split(/\s+/).filter((w) => w !== '');
  if (first === undefined) throw new BadValue('Backend has no value: expected ADDRESS:PORT [weight=N] [drain]');
  const ep = parseEndpoint('Backend', first);
  let weight = 1;
  let drain = false;
  const seen = new Set<string>();
  for (const opt of options) {
    const name = opt.split('=')[0].toLowerCase();
    if (seen.has(name)) throw new BadValue(`Backend ${quote(value)}: ${name} is given twice`);
    seen.add(name);
    if (name === 'weight' && opt.includes('=')) weight = uintIn('Backend weight', opt.slice(opt.indexOf('=') + 1), 1, MAX_WEIGHT);
    else if (opt.toLowerCase() === 'drain') drain = true;
    else throw new BadValue(`Backend ${quote(value)}: unknown option ${quote(opt)}: expected weight=N or drain`);
  }
  return { family: ep.family, bytes: ep.bytes, text: ep.text, port: ep.port, weight, drain, name: endpointName(ep.family, ep.text, ep.port) };
}

/** SessionAffinity: none | client-ip [SECONDS]; returns the timeout in ms, 0 for none. */
export function parseAffinity(value: string): number {
  const [kind, seconds, extra] = value.split(/\s+/).filter((w) => w !== '');
  const k = (kind ?? '').toLowerCase();
  if (k === 'none' && seconds === undefined) return 0;
  if (k === 'client-ip' && extra === undefined) return (seconds === undefined ? DEFAULT_AFFINITY_S : uintIn('SessionAffinity timeout', seconds, 1, 86400, 'seconds')) * 1000;
  throw new BadValue(`SessionAffinity ${quote(value)} is invalid: expected none or client-ip [SECONDS] (1-86400, default ${DEFAULT_AFFINITY_S})`);
}

/** HealthCheck: tcp [PORT] | http [PORT] /path [STATUS] | icmp | none. Fills kind, port, path, status. */
export function parseHealthCheck(value: string, into: HealthCheckSpec): void {
  const words = value.split(/\s+/).filter((w) => w !== '');
  const kind = (words[0] ?? '').toLowerCase();
  const expected = 'expected tcp [PORT], http [PORT] /PATH [STATUS], icmp or none';
  const bad = () => new BadValue(`HealthCheck ${quote(value)} is invalid: ${expected}`);
  into.port = 0;
  if (kind === 'none' || kind === 'icmp') {
    if (words.length !== 1) throw bad();
    into.kind = kind;
    return;
  }
  if (kind === 'tcp') {
    if (words.length > 2) throw bad();
    into.kind = 'tcp';
    if (words.length === 2) into.port = uintIn('HealthCheck port', words[1], 1, 65535, 'a port');
    return;
  }
  if (kind !== 'http') throw bad();
  let i = 1;
  if (words[i] !== undefined && DIGITS.test(words[i])) into.port = uintIn('HealthCheck port', words[i++], 1, 65535, 'a port');
  const path = words[i++];
  if (path === undefined || !path.startsWith('/') || /[\s#]/.test(path)) throw bad();
  into.path = path;
  into.status = words[i] !== undefined ? uintIn('HealthCheck status', words[i++], 100, 599, 'an HTTP status') : 200;
  if (i !== words.length) throw bad();
  into.kind = 'http';
}

/** HealthInterval: seconds, 0.1-3600 (decimals allowed); returns ms. */
export function parseInterval(value: string): number {
  if (!/^\d+(\.\d+)?$/.test(value) || Number(value) < 0.1 || Number(value) > 3600) throw new BadValue(`HealthInterval ${quote(value)} is invalid: expected seconds 0.1-3600`);
  return Math.round(Number(value) * 1000);
}

export function parseThreshold(key: string, value: string): number {
  return uintIn(key, value, 1, 100, 'a count');
}

export function parseSnatMode(value: string): boolean {
  const v = value.toLowerCase();
  if (v === 'auto') return false;
  if (v === 'always') return true;
  throw new BadValue(`Snat ${quote(value)} is invalid: expected auto (only backends reached through the host) or always`);
}

export function parseServiceName(value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(value)) throw new BadValue(`Name ${quote(value)} is invalid: expected 1-63 letters, digits, '.', '_' or '-'`);
  return value;
}

