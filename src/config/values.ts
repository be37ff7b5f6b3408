/**
 * Value parsers for the [Interface] and [Peer] keys, with wg's and wg-quick's rules.
 * Each throws BadValue with a message naming the key, what was wrong and what is
 * expected; the parser adds file:line. Key values are never quoted back.
 */
import { isIP } from 'node:net';
import { KEY_BASE64_LENGTH, tryParseKeyBase64 } from '../wireguard/keys.js';
import { MTU_MAX, MTU_MIN } from './constants.js';
import { quote } from './issues.js';
import { fwmarkValue, keepaliveValue } from './value-rules.js';
import { type IpPrefix, parsePrefix } from '../text/prefix.js';

export class BadValue extends Error {}

const DIGITS = /^\d+$/;

function uint(value: string, max: number): number | null {
  if (!DIGITS.test(value)) return null;
  const n = Number(value);
  return n <= max ? n : null;
}

export function parseListenPort(value: string): number {
  const expected = 'expected a port 0-65535';
  if (!DIGITS.test(value)) throw new BadValue(`ListenPort ${quote(value)} is not a number: ${expected} (service names are not supported)`);
  const n = uint(value, 65535);
  if (n === null) throw new BadValue(`ListenPort ${quote(value)} is out of range: ${expected}`);
  return n;
}

/** wg's parse_fwmark: "off", decimal, or hex with a lower-case 0x; at most 0xffffffff. */
export function parseFwmark(value: string): number {
  const n = fwmarkValue(value);
  if (n === null) throw new BadValue(`FwMark ${quote(value)} is invalid: expected off, 0-4294967295 or 0x0-0xffffffff`);
  return n;
}

export function parseKeepalive(value: string): number {
  const n = keepaliveValue(value);
  if (n === null) throw new BadValue(`PersistentKeepalive ${quote(value)} is invalid: expected off or seconds 0-65535`);
  return n;
}

export function parseMtu(value: string): number {
  const n = uint(value, MTU_MAX);
  if (n === null || n < MTU_MIN) throw new BadValue(`MTU ${quote(value)} is invalid: expected a number ${MTU_MIN}-${MTU_MAX}`);
  return n;
}

/** wg-quick passes Table to `ip route … table T`: off, auto, a number, or a name from rt_tables. */
export function parseTable(value: string): string {
  if (value === 'off' || value === 'auto') return value;
  if (DIGITS.test(value) ? uint(value, 0xffffffff) !== null : /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/.test(value)) return value;
  throw new BadValue(`Table ${quote(value)} is invalid: expected off, auto, a table number 0-4294967295 or a table name`);
}

/** wg-quick's read_bool, which runs under nocasematch: true or false in any case. */
export function parseBool(key: string, value: string): boolean {
  const v = value.toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new BadValue(`${key} ${quote(value)} is not a boolean: expected true or false`);
}

/** on or off (any case). */
export function parseOnOff(key: string, value: string): boolean {
  const v = value.toLowerCase();
  if (v === 'on') return true;
  if (v === 'off') return false;
  throw new BadValue(`${key} ${quote(value)} is invalid: expected on or off`);
}

/** A base64 key; the message tells the length, never the text. */
export function parseKey(key: string, value: string): Uint8Array {
  const k = tryParseKeyBase64(value);
  if (k !== null) return k;
  const got = value.length === KEY_BASE64_LENGTH ? 'which is not valid base64 for 32 bytes' : `got ${value.length} characters`;
  throw new BadValue(`${key} is not a valid key: expected ${KEY_BASE64_LENGTH} base64 characters (32 bytes, as wg genkey prints), ${got}`);
}

/** Checks one "ADDRESS[/PREFIX]" the way wg's parse_ip and strtoul do, then builds the prefix (host part kept). */
function ipPrefix(key: string, text: string): IpPrefix {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const family = addr.includes('%') ? 0 : isIP(addr);
  if (family !== 4 && family !== 6) throw new BadValue(`${key} entry ${quote(text)}: ${quote(addr)} is not an IP address: expected ADDRESS[/PREFIX]`);
  const max = family === 4 ? 32 : 128;
  let cidr = max;
  if (slash >= 0) {
    const len = text.slice(slash + 1);
    const n = uint(len, max);
    if (n === null) throw new BadValue(`${key} entry ${quote(text)} has a bad prefix length: expected 0-${max} for IPv${family}`);
    cidr = n;
  }
  return parsePrefix(`${addr}/${cidr}`);
}

/** wg's AllowedIPs: comma-separated, no empty entries; no +/- (the installed wg rejects them). */
export function parseAllowedIps(value: string): IpPrefix[] {
  return value.split(',').map((entry) => {
    if (entry === '') throw new BadValue('AllowedIPs has an empty entry: expected a comma-separated list of ADDRESS[/PREFIX]');
    return ipPrefix('AllowedIPs', entry);
  });
}

/** wg-quick splits Address and DNS on commas and whitespace (`${value//,/ }`, unquoted). */
function words(value: string): string[] {
  return value.split(/[,\s]+/).filter((w) => w !== '');
}

export function parseAddresses(value: string): IpPrefix[] {
  return words(value).map((w) => ipPrefix('Address', w));
}

const DOMAIN = /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?$/;

/**
 * wg-quick's DNS rule: an entry that is all digits and dots, or holds a colon, is a server
 * address; anything else is a search domain.
 */
export function parseDns(value: string): { servers: string[]; search: string[] } {
  const servers: string[] = [];
  const search: string[] = [];
  for (const w of words(value)) {
    if (/^[0-9.]+$/.test(w) || w.includes(':')) {
      if (isIP(w.split('%')[0]) === 0) throw new BadValue(`DNS entry ${quote(w)} is not a valid IP address: expected a server address or a search domain`);
      servers.push(w);
    } else if (DOMAIN.test(w)) {
      search.push(w);
    } else {
      throw new BadValue(`DNS entry ${quote(w)} is neither an IP address nor a search domain`);
    }
  }
  return { servers, search };
}

/** True for a DNS name wg would hand to getaddrinfo (letters, digits, '-', '_', dots). */
export function isHostname(host: string): boolean {
  return DOMAIN.test(host) && !/^[0-9.]+$/.test(host);
}
