/**
 * The asynchronous half of reading a config: Endpoint hostnames become addresses (and
 * IPv6 scope names become interface indexes), as wg does with getaddrinfo before it sends
 * anything. Failures carry the Endpoint's file:line; all of them are reported together.
 *
 * Like wg, a transient failure (the resolver is not up yet at boot) is retried with a
 * growing pause, WG_ENDPOINT_RESOLUTION_RETRIES times (default 15, "infinity" for no end);
 * an answer that the name does not exist is final at once.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { ifNameToIndex } from '../io/ifindex.js';
import { ConfigError, IssueList, quote } from './issues.js';
import { describeEndpoint, numericEndpoint } from './endpoint-spec.js';
import type { WgQuickConfig } from './model.js';

interface ResolveOptions {
  /** Name → first address, like getaddrinfo(AF_UNSPEC). Default: node:dns lookup. */
  lookup?: (host: string) => Promise<{ address: string; family: number }>;
  /** Retries after a transient failure. Default: WG_ENDPOINT_RESOLUTION_RETRIES or 15. */
  retries?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Interface name → index, for "[fe80::1%eth0]:51820". Default: io/ifindex.ts (/sys/class/net). */
  ifindex?: (name: string) => number | null;
}

/** getaddrinfo's permanent failures (EAI_NONAME, EAI_FAIL, EAI_NODATA) as Node names them. */
const PERMANENT = new Set(['ENOTFOUND', 'ENODATA', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA']);

export function retriesFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.WG_ENDPOINT_RESOLUTION_RETRIES;
  if (text === undefined) return 15;
  if (text === 'infinity') return Number.POSITIVE_INFINITY;
  if (!/^\d+$/.test(text)) throw new ConfigError([{ file: 'WG_ENDPOINT_RESOLUTION_RETRIES', line: 0, message: `${quote(text)} is not a number: expected a count or infinity` }]);
  return Number(text);
}

async function lookupWithRetry(host: string, o: Required<ResolveOptions>): Promise<{ address: string; family: number }> {
  let left = o.retries;
  for (let pause = 1000; ; pause = Math.min(20_000, Math.floor((pause * 6) / 5))) {
    try {
      return await o.lookup(host);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (PERMANENT.has(code) || left <= 0) throw err;
      left--;
      await o.sleep(pause);
    }
  }
}

/** Fills `endpoint.address` of every peer whose Endpoint is a name (or has a named scope); returns the same config. */
export async function resolveEndpoints(config: WgQuickConfig, options: ResolveOptions = {}): Promise<WgQuickConfig> {
  const o: Required<ResolveOptions> = {
    lookup: options.lookup ?? ((host) => dnsLookup(host, { family: 0 })),
    retries: options.retries ?? retriesFromEnv(),
    sleep: options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    ifindex: options.ifindex ?? ifNameToIndex,
  };
  const issues = new IssueList(config.source.file);
  await Promise.all(
    config.peers.map(async (peer) => {
      const spec = peer.endpoint;
      if (spec === null || spec.address !== null) return;
      const line = peer.lines.Endpoint ?? peer.line;
      const what = `Endpoint ${quote(describeEndpoint(spec))}`;
      let scopeId: number | undefined;
      if (spec.scope !== null) {
        const index = /^\d+$/.test(spec.scope) ? Number(spec.scope) : o.ifindex(spec.scope);
        if (index === null) {
          issues.error(line, `${what}: there is no interface ${quote(spec.scope)} for the scope: expected an existing interface or its index`);
          return;
        }
        scopeId = index;
      }
      try {
        const found = await lookupWithRetry(spec.host, o);
        spec.address = numericEndpoint(found.address, spec.port, found.family === 6 ? scopeId : undefined);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        issues.error(line, `${what} could not be resolved (${code}): expected a name that resolves to an IPv4 or IPv6 address`);
      }
    }),
  );
  issues.throwIfAny();
  return config;
}
