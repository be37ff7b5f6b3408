/**
 * if_indextoname()/if_nametoindex() for IPv6 scope ids ("fe80::1%eth0"), read from
 * /sys/class/net (which shows the caller's network namespace). Node has no binding.
 */
import { readdirSync, readFileSync } from 'node:fs';

const SYS_NET = '/sys/class/net';

export function ifNameToIndex(name: string): number | null {
  if (name === '' || name.includes('/') || name === '.' || name === '..') return null;
  try {
    const n = Number(readFileSync(`${SYS_NET}/${name}/ifindex`, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

export function ifIndexToName(index: number): string | null {
  let names: string[];
  try {
    names = readdirSync(SYS_NET);
  } catch {
    return null;
  }
  for (const name of names) if (ifNameToIndex(name) === index) return name;
  return null;
}
