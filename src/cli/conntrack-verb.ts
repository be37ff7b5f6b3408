/**
 * `ferry conntrack IFNAME [filters]`: the load balancer's connection table, one line per
 * entry as `conntrack -L` prints the kernel's (protocol, time left, state, the ORIGINAL
 * tuple and its counters, the REPLY tuple and its counters, flags), plus the service and
 * backend the entry chose. Filters as conntrack(8)'s; at most --limit lines (default 100).
 */
import { controlRequest } from '../control/control-client.js';
import type { ConntrackEntryView, ConntrackListing, TupleView } from '../lb/conntrack-list.js';
import type { CliIo } from './wg/cli-io.js';

export const CONNTRACK_DESCRIPTION = 'Lists the connection table of a ferry interface\'s load balancer';

export function conntrackHelp(prog: string): string {
  return [
    `Usage: ${prog} conntrack <interface> [-p|--proto tcp|udp] [-s|--orig-src <address>]`,
    '         [-d|--orig-dst|--vip <address>[:<port>]] [--backend <address>[:<port>]]',
    '         [--state <state>] [--service <name>] [--limit <n>] [--json]',
    '',
    `${CONNTRACK_DESCRIPTION}, through /run/ferry/<interface>.sock,`,
    'one line per entry as conntrack -L prints them. --limit: at most this many lines',
    '(default 100, at most 10000); the count of all matching entries goes to stderr.',
    'States: SYN_SENT, SYN_RECV, ESTABLISHED, FIN_WAIT, CLOSE_WAIT, LAST_ACK, TIME_WAIT,',
    'CLOSE (TCP); UNREPLIED, REPLIED, ASSURED (UDP).',
    '',
  ].join('\n');
}

const OPTIONS: Record<string, string> = {
  '-p': 'proto',
  '--proto': 'proto',
  '-s': 'origSrc',
  '--orig-src': 'origSrc',
  '-d': 'origDst',
  '--orig-dst': 'origDst',
  '--vip': 'origDst',
  '--backend': 'backend',
  '--state': 'state',
  '--service': 'service',
  '--limit': 'limit',
};

function tupleText(t: TupleView): string {
  return `src=${t.src} dst=${t.dst} sport=${t.sport} dport=${t.dport} packets=${t.packets} bytes=${t.bytes}`;
}

/** conntrack -L's line: "tcp      6 431999 ESTABLISHED src=… [ASSURED] …". */
export function formatEntry(e: ConntrackEntryView): string {
  const head = e.proto === 'tcp' ? `tcp      6 ${e.timeout} ${e.state} ` : `udp      17 ${e.timeout} `;
  const unreplied = e.seenReply ? '' : '[UNREPLIED] ';
  const assured = e.assured ? ' [ASSURED]' : '';
  return `${head}${tupleText(e.original)} ${unreplied}${tupleText(e.reply)}${assured} service=${e.service ?? '-'} backend=${e.backend ?? '-'}\n`;
}

export async function conntrackMain(io: CliIo, args: readonly string[]): Promise<number> {
  const [ifname, ...rest] = args;
  const request: Record<string, unknown> = {};
  let json = false;
  let bad = ifname === undefined || ifname.startsWith('-');
  for (let i = 0; i < rest.length && !bad; i++) {
    if (rest[i] === '--json') {
      json = true;
      continue;
    }
    const key = OPTIONS[rest[i]];
    const value = rest[i + 1];
    if (key === undefined || value === undefined || request[key] !== undefined) bad = true;
    else request[key] = key === 'limit' ? (/^\d+$/.test(value) ? Number(value) : value) : value;
    i++;
  }
  if (bad) {
    io.err(conntrackHelp(io.prog));
    return 1;
  }
  try {
    const listing = (await controlRequest(ifname, 'conntrack', request)) as ConntrackListing;
    if (json) {
      io.out(`${JSON.stringify(listing)}\n`);
      return 0;
    }
    io.out(listing.entries.map(formatEntry).join(''));
    const more = listing.matched > listing.entries.length ? ` (${listing.matched} matched; raise --limit to see more)` : '';
    io.err(`ferry conntrack: ${listing.entries.length} flow entries have been shown${more}; ${listing.count} of ${listing.capacity} in the table.\n`);
    return 0;
  } catch (err) {
    const e = err as Error & { code?: string };
    const why = e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? 'no ferry daemon answers for it' : e.code === 'FERRY_CONTROL_UNKNOWN_OP' ? 'it runs no load balancer ([FerryLb])' : e.message;
    io.err(`Unable to list the connection table of interface ${ifname}: ${why}\n`);
    return 1;
  }
}
