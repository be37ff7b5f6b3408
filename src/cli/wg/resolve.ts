/**
 * getaddrinfo(host, service, {AF_UNSPEC, SOCK_DGRAM, IPPROTO_UDP}) as wg(8) calls it for
 * endpoints and listen ports, answered as glibc answers: the service is looked up first
 * (a number is read by strtoul and truncated to 16 bits, so "70000" is port 4464; a name
 * comes from /etc/services for udp), then the host: numeric forms through uapi/endpoint.ts
 * (IPv6 scope ids need if_nametoindex, which node:dns drops), names through node:dns
 * lookup (glibc's getaddrinfo underneath, first address in its order).
 */
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { Gai } from '../../text/errno.js';
import type { Endpoint } from '../../text/endpoint.js';
import { numericHost } from '../../uapi/endpoint.js';

const ULONG_MAX = (1n << 64n) - 1n;

/** strtoul(text, &end, 10) with *end == '\0', or null when the text is not all number. */
function strtoulWhole(text: string): bigint | null {
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)$/.exec(text);
  if (m === null) return null;
  let n = BigInt(m[2]);
  if (n > ULONG_MAX) return ULONG_MAX;
  if (m[1] === '-') n = (ULONG_MAX + 1n - n) & ULONG_MAX;
  return n;
}

function servicesFile(): string {
  try {
    return readFileSync('/etc/services', 'latin1');
  } catch {
    return '';
  }
}

/** getservbyname(name, "udp") from /etc/services. */
function udpServiceByName(name: string): number | null {
  for (const raw of servicesFile().split('\n')) {
    const line = raw.split('#')[0].trim();
    if (line === '') continue;
    const [official, portProto, ...aliases] = line.split(/\s+/);
    const m = /^([0-9]+)\/udp$/.exec(portProto ?? '');
    if (m === null) continue;
    if (official === name || aliases.includes(name)) return Number(m[1]) & 0xffff;
  }
  return null;
}

/** The UDP port getaddrinfo gives for a service string, or null (EAI_SERVICE). */
export function servicePort(service: string): number | null {
  const n = strtoulWhole(service);
  if (n !== null) {
    // glibc keeps the number in an int; -1 there means "look the name up".
    const asInt = Number(BigInt.asIntN(32, n));
    if (asInt !== -1) return asInt & 0xffff;
  }
  return udpServiceByName(service);
}

type GaiResult = { ok: true; addr: Endpoint } | { ok: false; code: number; errno?: number };

/** Resolves one endpoint; `code` is a glibc EAI_* value on failure. */
export async function getaddrinfo(host: string, service: string): Promise<GaiResult> {
  const port = servicePort(service);
  if (port === null) return { ok: false, code: Gai.SERVICE };
  const numeric = numericHost(host);
  if (numeric !== null) return { ok: true, addr: { ...numeric, port } };
  // An unknown scope name, or no host at all ("" asks node:dns for nothing): glibc says EAI_NONAME.
  if (host === '' || host.includes('%')) return { ok: false, code: Gai.NONAME };
  try {
    const r = await lookup(host, { family: 0, verbatim: true });
    const found = typeof r.address === 'string' ? numericHost(r.address) : null;
    if (found === null) return { ok: false, code: Gai.NONAME };
    return { ok: true, addr: { ...found, port } };
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOTFOUND') return { ok: false, code: Gai.NONAME };
    if (code === 'EAI_AGAIN') return { ok: false, code: Gai.AGAIN };
    if (code === 'EAI_FAIL') return { ok: false, code: Gai.FAIL };
    if (code === 'EAI_NODATA') return { ok: false, code: Gai.NODATA };
    return { ok: false, code: Gai.NONAME };
  }
}
