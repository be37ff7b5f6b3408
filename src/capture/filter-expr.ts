/**
 * The capture filter's small expression language, a subset of tcpdump's:
 *
 *   expr  := term ('or' term)*          ('||' too)
 *   term  := unary ('and' unary)*       ('&&' too)
 *   unary := 'not' unary | '(' expr ')' | prim      ('!' too)
 *   prim  := ['src' | 'dst'] 'host' ADDRESS | ['src' | 'dst'] 'net' PREFIX
 *          | ['src' | 'dst'] 'port' N | 'tcp' | 'udp' | 'icmp'
 *
 * `icmp` means ICMP and ICMPv6. The expression is parsed once (control path, errors that
 * say which word is wrong) into a tree evaluated per packet without allocating. For an
 * `outer` datagram it sees the rebuilt outer headers, for the other points the packet.
 */
import { isIP } from 'node:net';
import { ErrorCode, FerryError } from '../errors.js';
import { parsePrefix } from '../table/prefix-trie.js';

const Dir = { Any: 0, Src: 1, Dst: 2 } as const;

export type FilterNode =
  | { kind: 'and' | 'or'; a: FilterNode; b: FilterNode }
  | { kind: 'not'; a: FilterNode }
  | { kind: 'net'; dir: number; family: 4 | 6; bytes: Uint8Array; cidr: number }
  | { kind: 'port'; dir: number; port: number }
  | { kind: 'proto'; v4: number; v6: number };

function fail(message: string): never {
  throw new FerryError(ErrorCode.InvalidArgument, `capture filter: ${message}`);
}

function tokenize(text: string): string[] {
  return text
    .replace(/([()])/g, ' $1 ')
    .split(/\s+/)
    .filter((w) => w !== '')
    .map((w) => (w === '&&' ? 'and' : w === '||' ? 'or' : w === '!' ? 'not' : w));
}

/** Parses an expression; throws FerryError(InvalidArgument) naming the word at fault. Empty: null (everything). */
export function parseFilter(text: string): FilterNode | null {
  const words = tokenize(text);
  if (words.length === 0) return null;
  let i = 0;
  const peek = (): string | undefined => words[i];
  const where = (): string => (i < words.length ? `"${words[i]}" (word ${i + 1})` : 'the end');
  const expr = (): FilterNode => {
    let a = term();
    while (peek() === 'or') {
      i++;
      a = { kind: 'or', a, b: term() };
    }
    return a;
  };
  const term = (): FilterNode => {
    let a = unary();
    while (peek() === 'and') {
      i++;
      a = { kind: 'and', a, b: unary() };
    }
    return a;
  };
  const unary = (): FilterNode => {
    const w = peek();
    if (w === 'not') {
      i++;
      return { kind: 'not', a: unary() };
    }
    if (w === '(') {
      i++;
      const e = expr();
      if (peek() !== ')') fail(`expected ")" at ${where()}`);
      i++;
      return e;
    }
    return prim();
  };
  const prim = (): FilterNode => {
    let w = peek();
    if (w === undefined) fail('expected a primitive (host, net, port, tcp, udp, icmp) at the end');
    if (w === 'tcp' || w === 'udp' || w === 'icmp') {
      i++;
      return w === 'tcp' ? { kind: 'proto', v4: 6, v6: 6 } : w === 'udp' ? { kind: 'proto', v4: 17, v6: 17 } : { kind: 'proto', v4: 1, v6: 58 };
    }
    let dir: number = Dir.Any;
    if (w === 'src' || w === 'dst') {
      dir = w === 'src' ? Dir.Src : Dir.Dst;
      i++;
      w = peek();
    }
    if (w !== 'host' && w !== 'net' && w !== 'port') fail(`expected host, net, port, tcp, udp or icmp at ${where()}`);
    i++;
    const arg = peek();
    if (arg === undefined || arg === '(' || arg === ')') fail(`"${w}" needs a value, found ${where()}`);
    i++;
    if (w === 'port') {
      if (!/^\d{1,5}$/.test(arg) || Number(arg) > 65535) fail(`port "${arg}" must be an integer in [0, 65535]`);
      return { kind: 'port', dir, port: Number(arg) };
    }
    if (w === 'host' && isIP(arg) === 0) fail(`host "${arg}" is not an IP address`);
    if (w === 'net' && !arg.includes('/')) fail(`net "${arg}" needs a prefix length (ADDRESS/BITS)`);
    let p;
    try {
      p = parsePrefix(arg);
    } catch {
      fail(`${w} "${arg}" is not an IP ${w === 'net' ? 'prefix' : 'address'}`);
    }
    return { kind: 'net', dir, family: p.family, bytes: p.bytes, cidr: p.cidr };
  };
  const tree = expr();
  if (i < words.length) fail(`unexpected ${where()}`);
  return tree;
}

/** What a filter reads of one packet, filled once per packet into a reused object. */
export class PacketFacts {
  buf: Uint8Array = new Uint8Array(0);
  version = 0;
  src = 0;
  dst = 0;
  proto = -1;
  /** Offset of the TCP/UDP header, -1 when there is none (not TCP/UDP, a later fragment, truncated). */
  ports = -1;

  /** Reads the IP header at buf[off, off+len); false when it is not IPv4/IPv6 or too short. */
  load(buf: Uint8Array, off: number, len: number): boolean {
    this.buf = buf;
    this.ports = -1;
    this.proto = -1;
    const end = off + len;
    const v = len > 0 ? buf[off] >>> 4 : 0;
    this.version = v;
    if (v === 4) {
      const ihl = (buf[off] & 0x0f) * 4;
      if (len < 20 || ihl < 20 || ihl > len) return false;
      this.src = off + 12;
      this.dst = off + 16;
      this.proto = buf[off + 9];
      const fragOffset = ((buf[off + 6] & 0x1f) << 8) | buf[off + 7];
      if (fragOffset === 0 && (this.proto === 6 || this.proto === 17) && off + ihl + 4 <= end) this.ports = off + ihl;
      return true;
    }
    if (v === 6) {
      if (len < 40) return false;
      this.src = off + 8;
      this.dst = off + 24;
      let next = buf[off + 6];
      let p = off + 40;
      // Hop-by-hop, routing, destination options: walk a few; a fragment header ends the walk.
      for (let k = 0; k < 8 && (next === 0 || next === 43 || next === 60) && p + 8 <= end; k++) {
        next = buf[p];
        p += (buf[p + 1] + 1) * 8;
      }
      this.proto = next;
      if ((next === 6 || next === 17) && p + 4 <= end) this.ports = p;
      return true;
    }
    return false;
  }
}

function prefixMatch(buf: Uint8Array, at: number, bytes: Uint8Array, cidr: number): boolean {
  const whole = cidr >>> 3;
  for (let i = 0; i < whole; i++) if (buf[at + i] !== bytes[i]) return false;
  const rest = cidr & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (buf[at + whole] & mask) === (bytes[whole] & mask);
}

function portMatch(f: PacketFacts, dir: number, port: number): boolean {
  if (f.ports < 0) return false;
  const b = f.buf;
  const sp = (b[f.ports] << 8) | b[f.ports + 1];
  const dp = (b[f.ports + 2] << 8) | b[f.ports + 3];
  return (dir !== Dir.Dst && sp === port) || (dir !== Dir.Src && dp === port);
}

/** True when the loaded packet matches. */
export function matchFilter(node: FilterNode, f: PacketFacts): boolean {
  switch (node.kind) {
    case 'and':
      return matchFilter(node.a, f) && matchFilter(node.b, f);
    case 'or':
      return matchFilter(node.a, f) || matchFilter(node.b, f);
    case 'not':
      return !matchFilter(node.a, f);
    case 'proto':
      return f.proto === (f.version === 4 ? node.v4 : node.v6);
    case 'port':
      return portMatch(f, node.dir, node.port);
    case 'net':
      if (f.version !== node.family) return false;
      return (node.dir !== Dir.Dst && prefixMatch(f.buf, f.src, node.bytes, node.cidr)) || (node.dir !== Dir.Src && prefixMatch(f.buf, f.dst, node.bytes, node.cidr));
  }
}
