/**
 * The connection table as `conntrack -L` lists it, for the control socket: each entry
 * as its ORIGINAL and REPLY tuples with their counters, state and time left, filtered the
 * way conntrack(8) filters (protocol, original source or destination, the backend, the
 * state, the service) and bounded by a limit. Control path: one scan of the table per
 * request, allocation is fine here.
 */
import { IPProto } from '../packet/constants.js';
import { addressText } from './address-text.js';
import type { Balancer } from './balancer.js';
import { type Conntrack, CtStatus } from './conntrack.js';
import { CT_STATE_NAMES, CtState, Dir } from './conntrack-states.js';

export interface TupleView {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  packets: number;
  bytes: number;
}

export interface ConntrackEntryView {
  proto: 'tcp' | 'udp';
  family: 4 | 6;
  /** TCP: SYN_SENT … CLOSE; UDP: UNREPLIED, REPLIED (not yet a stream) or ASSURED (as conntrack's flags). */
  state: string;
  /** Seconds until the entry expires. */
  timeout: number;
  original: TupleView;
  reply: TupleView;
  seenReply: boolean;
  assured: boolean;
  snat: boolean;
  service: string | null;
  backend: string | null;
}

/** A filter; absent fields match everything. Addresses as text ("10.96.0.10", "fd00:96::10"). */
export interface ConntrackFilter {
  proto?: 'tcp' | 'udp';
  /** ORIGINAL source (the client) and destination (the VIP), with an optional port. */
  origSrc?: string;
  origDst?: string;
  origDport?: number;
  /** The backend: REPLY source address, and port. */
  backend?: string;
  backendPort?: number;
  /** A state name (CT_STATE_NAMES; UNREPLIED matches every UDP entry not yet replied to). */
  state?: string;
  service?: string;
}

export interface ConntrackListing {
  /** Entries in the table. */
  count: number;
  capacity: number;
  /** Entries that matched the filter (all of them, not only those returned). */
  matched: number;
  entries: ConntrackEntryView[];
}

/** States a filter may name: TCP's, and UDP's UNREPLIED, REPLIED (not yet a stream), ASSURED. */
export const CONNTRACK_STATE_FILTERS = [...CT_STATE_NAMES.slice(0, CtState.Udp), 'UNREPLIED', 'REPLIED', 'ASSURED'];

function tuple(ct: Conntrack, e: number, dir: number): TupleView {
  const a = ct.addrOffset(e, dir);
  const family = ct.family[e];
  return { src: addressText(family, ct.addrs, a), dst: addressText(family, ct.addrs, a + 16), sport: ct.sport(e, dir), dport: ct.dport(e, dir), packets: ct.packets[e * 2 + dir], bytes: ct.bytes[e * 2 + dir] };
}

/** One entry as the listing shows it. */
function entryView(ct: Conntrack, balancer: Balancer, e: number, now: number): ConntrackEntryView {
  const udp = ct.proto[e] === IPProto.UDP;
  const status = ct.status[e];
  const st = ct.state[e];
  const svc = balancer.services[ct.service[e]];
  const b = balancer.backends[ct.backend[e]];
  return {
    proto: udp ? 'udp' : 'tcp',
    family: ct.family[e] === 6 ? 6 : 4,
    state: udp ? ((status & CtStatus.SeenReply) === 0 ? 'UNREPLIED' : st === CtState.UdpStream ? 'ASSURED' : 'REPLIED') : CT_STATE_NAMES[st],
    timeout: Math.max(0, Math.floor((ct.expires[e] - now) / 1000)),
    original: tuple(ct, e, Dir.Original),
    reply: tuple(ct, e, Dir.Reply),
    seenReply: (status & CtStatus.SeenReply) !== 0,
    assured: (status & CtStatus.Assured) !== 0,
    snat: (status & CtStatus.Snat) !== 0,
    service: svc?.name ?? null,
    backend: b?.name ?? null,
  };
}

function matches(v: ConntrackEntryView, f: ConntrackFilter): boolean {
  if (f.proto !== undefined && v.proto !== f.proto) return false;
  if (f.origSrc !== undefined && v.original.src !== f.origSrc) return false;
  if (f.origDst !== undefined && v.original.dst !== f.origDst) return false;
  if (f.origDport !== undefined && v.original.dport !== f.origDport) return false;
  if (f.backend !== undefined && v.reply.src !== f.backend) return false;
  if (f.backendPort !== undefined && v.reply.sport !== f.backendPort) return false;
  if (f.service !== undefined && v.service !== f.service) return false;
  if (f.state !== undefined && v.state !== f.state) return false;
  return true;
}

/** Entries matching `filter`, at most `limit` of them, in table order; expired ones are skipped. */
export function listConntrack(ct: Conntrack, balancer: Balancer, filter: ConntrackFilter, limit: number, now: number): ConntrackListing {
  const entries: ConntrackEntryView[] = [];
  let matched = 0;
  const proto = filter.proto === undefined ? 0 : filter.proto === 'udp' ? IPProto.UDP : IPProto.TCP;
  for (let e = 0; e < ct.capacity; e++) {
    if (!ct.inUse(e) || ct.expires[e] <= now) continue;
    // The cheap tests first, so a full table is not turned into views to be thrown away.
    if ((proto !== 0 && ct.proto[e] !== proto) || (filter.service !== undefined && balancer.services[ct.service[e]]?.name !== filter.service)) continue;
    const v = entryView(ct, balancer, e, now);
    if (!matches(v, filter)) continue;
    matched++;
    if (entries.length < limit) entries.push(v);
  }
  return { count: ct.count, capacity: ct.capacity, matched, entries };
}
