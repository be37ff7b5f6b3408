/**
 * What one capture asks for, checked once when it starts (the control request, or the
 * CLI before it connects): points, plane, peer, VTEP, service, the expression, --keys,
 * and how it ends (a packet count, a duration). Errors are FerryError(InvalidArgument)
 * with a message that names the bad value.
 */
import { isIP } from 'node:net';
import { CAPTURE_POINT_NAMES } from '../datapath/capture-tap.js';
import { ErrorCode, FerryError } from '../errors.js';
import { DEFAULT_RING_BYTES } from './capture-ring.js';
import { type FilterNode, parseFilter } from './filter-expr.js';

const DEFAULT_SNAPLEN = 262144;
const ALL_POINTS = 0b1111;

export interface CaptureOptions {
  /** Bit i set: capture point i (CapturePoint). */
  points: number;
  plane: string | null;
  /** A WireGuard peer's public key (base64). */
  peer: string | null;
  /** A VTEP's underlay address. */
  vtep: string | null;
  filter: FilterNode | null;
  /** The expression as given (for the capture's description). */
  expression: string;
  keys: boolean;
  snaplen: number;
  ringBytes: number;
  /** Stop after this many packets (0: no limit). */
  count: number;
  /** Stop after this many seconds (0: no limit). */
  seconds: number;
}

/** The request's fields, as `ferry capture` sends them. */
export interface CaptureRequestArgs {
  points?: string;
  plane?: string;
  peer?: string;
  vtep?: string;
  service?: string;
  filter?: string;
  keys?: boolean;
  snaplen?: number;
  count?: number;
  seconds?: number;
}

function bad(message: string): never {
  throw new FerryError(ErrorCode.InvalidArgument, message);
}

function parsePoints(text: string): number {
  let mask = 0;
  for (const word of text.split(',').map((w) => w.trim())) {
    const i = (CAPTURE_POINT_NAMES as readonly string[]).indexOf(word);
    if (i < 0) bad(`capture point "${word}" is not one of ${CAPTURE_POINT_NAMES.join(', ')}`);
    mask |= 1 << i;
  }
  return mask;
}

function nonNegativeInteger(name: string, v: unknown, max: number): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) bad(`${name} must be an integer in [0, ${max}], got ${JSON.stringify(v)}`);
  return v;
}

function text(name: string, v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || v.length === 0 || v.length > 256) bad(`${name} must be a non-empty string`);
  return v;
}

export function captureOptions(args: CaptureRequestArgs): CaptureOptions {
  const peer = text('peer', args.peer);
  if (peer !== null && !/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/.test(peer)) bad(`peer "${peer}" is not a WireGuard public key (44 characters of base64)`);
  const vtep = text('vtep', args.vtep);
  if (vtep !== null && isIP(vtep) === 0) bad(`vtep "${vtep}" is not an IP address`);
  // `ferry capture --service` resolves the service into an address filter before it asks.
  if (text('service', args.service) !== null) bad('service is resolved by ferry capture into a filter on its VIP and backends; send the filter');
  const expression = text('filter', args.filter) ?? '';
  const snaplen = nonNegativeInteger('snaplen', args.snaplen, 262144);
  return {
    points: args.points === undefined ? ALL_POINTS : parsePoints(args.points),
    plane: text('plane', args.plane),
    peer,
    vtep,
    filter: parseFilter(expression),
    expression,
    keys: args.keys === true,
    snaplen: snaplen === 0 ? DEFAULT_SNAPLEN : Math.max(64, snaplen),
    ringBytes: DEFAULT_RING_BYTES,
    count: nonNegativeInteger('count', args.count, 2 ** 31),
    seconds: nonNegativeInteger('seconds', args.seconds, 7 * 86400),
  };
}
