/**
 * `ferry capture --service NAME`: the service's traffic is what flows to its VIP and
 * port, and between ferry and its backends on their ports (after DNAT, and SNAT where it
 * applies). The daemon's `service-show` names them; this builds the capture expression
 * `(host VIP and PROTO and port P) or (host B1 and PROTO and port P1) or …`, and-ed with the
 * user's own, so the capture path needs no per-packet knowledge of services.
 */
import { controlRequest } from '../control/control-client.js';

interface ServiceAddresses {
  address: string;
  protocol: 'tcp' | 'udp';
  backends: { address: string; port: number }[];
}

/** "10.96.0.10:80" or "[fd00:96::10]:80" → host and port. */
function splitEndpoint(text: string): { host: string; port: string } {
  const m = /^\[(.*)\]:(\d+)$/.exec(text) ?? /^([^:]*):(\d+)$/.exec(text);
  if (m === null) throw new Error(`unexpected service address ${JSON.stringify(text)}`);
  return { host: m[1], port: m[2] };
}

export function serviceExpression(s: ServiceAddresses): string {
  const vip = splitEndpoint(s.address);
  const terms = [`(host ${vip.host} and ${s.protocol} and port ${vip.port})`];
  for (const b of s.backends) terms.push(`(host ${b.address} and ${s.protocol} and port ${b.port})`);
  return terms.join(' or ');
}

/** The expression for `service` on `ifname`, and-ed with `filter` (may be empty). */
export async function withServiceFilter(ifname: string, service: string, filter: string | undefined): Promise<string> {
  let found: ServiceAddresses[];
  try {
    found = (await controlRequest(ifname, 'service-show', { service })) as ServiceAddresses[];
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') throw new Error(`${ifname}: no ferry daemon answers for it`);
    throw err;
  }
  const s = found[0];
  const own = serviceExpression(s);
  return filter === undefined || filter === '' ? own : `(${own}) and (${filter})`;
}
