/**
 * Endpoint text: a UDP peer's address as the control path holds it, and "host:port" /
 * "[v6%scope]:port" as wg writes and splits it. (The 48-byte record native/ reads is
 * io/endpoint.ts.)
 */

export interface Endpoint {
  address: string;
  port: number;
  family: 4 | 6;
  scopeId?: number;
}

/** "1.2.3.4:51820" or "[fe80::1%2]:51820" as wg prints numeric endpoints. */
export function formatEndpoint(ep: Endpoint): string {
  return ep.family === 6 ? `[${ep.address}${ep.scopeId ? `%${ep.scopeId}` : ''}]:${ep.port}` : `${ep.address}:${ep.port}`;
}

interface HostPort {
  host: string;
  /** As written; may be empty ("1.2.3.4:"). */
  port: string;
}

/**
 * Splits an endpoint as wg's parse_endpoint does: a bracketed host, else everything up to
 * the last colon (so "fd00::1:51820" is fd00::1 port 51820). null when there is no
 * closing bracket or no colon where the port should start.
 */
export function splitHostPort(value: string): HostPort | null {
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close < 0 || value[close + 1] !== ':') return null;
    return { host: value.slice(1, close), port: value.slice(close + 2) };
  }
  const colon = value.lastIndexOf(':');
  if (colon < 0) return null;
  return { host: value.slice(0, colon), port: value.slice(colon + 1) };
}
