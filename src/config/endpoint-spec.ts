/**
 * Endpoint = HOST:PORT | [IPV6]:PORT, split as wg's parse_endpoint does (a bracketed host,
 * else the last colon), so "fd00::1:51820" is fd00::1 port 51820 there too. A hostname is
 * kept for resolveEndpoints(); an IP literal is numeric at once.
 */
import { isIP } from 'node:net';
import { splitHostPort, type Endpoint } from '../text/endpoint.js';
import { quote } from './issues.js';
import type { EndpointSpec } from './model.js';
import { BadValue, isHostname } from './values.js';
import { formatIp, parseIp } from '../text/ip.js';

const FORMS = 'expected HOST:PORT or [IPv6]:PORT';

/** The numeric endpoint of an IP literal, its text normalized as wg prints it. */
export function numericEndpoint(host: string, port: number, scopeId?: number): Endpoint {
  const ip = parseIp(host);
  if (ip === null) throw new RangeError(`${host} is not an IP address`);
  const ep: Endpoint = { family: ip.family, address: formatIp(ip.family, ip.bytes), port };
  if (ip.family === 6 && scopeId !== undefined && scopeId !== 0) ep.scopeId = scopeId;
  return ep;
}

export function parseEndpointSpec(value: string): EndpointSpec {
  const split = splitHostPort(value);
  if (split === null && value.startsWith('[') && !value.includes(']')) throw new BadValue(`Endpoint ${quote(value)} has no closing bracket: ${FORMS}`);
  if (split === null || split.port === '') throw new BadValue(`Endpoint ${quote(value)} has no port: ${FORMS}`);
  let host = split.host;
  const portText = split.port;
  let scope: string | null = null;
  const pct = host.indexOf('%');
  if (pct >= 0) {
    scope = host.slice(pct + 1);
    host = host.slice(0, pct);
    if (scope === '') throw new BadValue(`Endpoint ${quote(value)} has an empty scope after '%': expected an interface name or index`);
  }
  if (host === '') throw new BadValue(`Endpoint ${quote(value)} has no host: ${FORMS}`);
  if (!/^\d+$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    throw new BadValue(`Endpoint ${quote(value)} has a bad port ${quote(portText)}: expected a port 1-65535`);
  }
  const port = Number(portText);
  const family = isIP(host);
  if (family === 0) {
    if (host.includes(':')) throw new BadValue(`Endpoint ${quote(value)}: ${quote(host)} is not a valid IPv6 address`);
    if (/^[0-9.]+$/.test(host)) throw new BadValue(`Endpoint ${quote(value)}: ${quote(host)} is not a valid IPv4 address`);
    if (!isHostname(host)) throw new BadValue(`Endpoint ${quote(value)}: ${quote(host)} is neither an IP address nor a hostname`);
  }
  if (scope !== null && family !== 6) throw new BadValue(`Endpoint ${quote(value)}: a scope ('%') is only allowed on an IPv6 address`);
  let address: Endpoint | null = null;
  if (family !== 0 && (scope === null || /^\d+$/.test(scope))) address = numericEndpoint(host, port, scope === null ? undefined : Number(scope));
  return { host, port, scope, address };
}

/** "host:port" / "[v6%scope]:port" as written, for messages. */
export function describeEndpoint(spec: EndpointSpec): string {
  const host = spec.scope === null ? spec.host : `${spec.host}%${spec.scope}`;
  return host.includes(':') ? `[${host}]:${spec.port}` : `${host}:${spec.port}`;
}
