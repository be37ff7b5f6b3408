/**
 * What `ferry top` draws: one frame from two samples of a daemon's control socket taken
 * `seconds` apart (rates are their difference). Pure: no I/O, no clock but the one given,
 * so a frame can be tested from recorded samples.
 */

interface PeerSample {
  publicKey: string;
  endpoint: string | null;
  allowedIps: string[];
  rxBytes: number;
  txBytes: number;
  latestHandshake: number;
  drops: number;
}

export interface TopSample {
  status: Record<string, unknown>;
  stats: { tun: { read: number; written: number }; pool: { slots: number; inUse: number }; drops: number };
  drops: { total: Record<string, number> };
  peers: PeerSample[];
}

/** Keys of `status` that are not a hosted plane's own object. */
const PLAIN_STATUS = new Set(['interface', 'kind', 'publicKey', 'listenPort', 'fwmark', 'mtu', 'up', 'peers', 'routes', 'offload', 'uptimeSeconds', 'pid']);

export function formatRate(perSecond: number, unit: 'B' | 'pkt'): string {
  if (unit === 'pkt') return perSecond >= 10_000 ? `${(perSecond / 1000).toFixed(1)}k/s` : `${Math.round(perSecond)}/s`;
  const units = ['B/s', 'KiB/s', 'MiB/s', 'GiB/s'];
  let v = perSecond;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B/s` : `${v.toFixed(1)} ${units[i]}`;
}

export function formatAge(seconds: number): string {
  if (seconds < 0) return 'now';
  if (seconds < 120) return `${Math.round(seconds)}s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m ago`;
  return `${Math.round(seconds / 3600)}h ago`;
}

function uptime(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s).padStart(2, '0')}s`;
}

function pad(text: string, width: number): string {
  return text.length >= width ? `${text.slice(0, width - 1)} ` : text.padEnd(width);
}

/** One hosted plane's status as `key value` pairs on a line, nested objects flattened one level. */
function planeLine(name: string, status: unknown): string {
  if (status === null || typeof status !== 'object') return `${name}: ${String(status)}`;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(status as Record<string, unknown>)) {
    if (v !== null && typeof v === 'object') continue;
    parts.push(`${k} ${String(v)}`);
  }
  return `${name}: ${parts.join(', ')}`;
}

/**
 * The frame: a header, the TUN's rates, one line per WireGuard peer (busiest first), each
 * hosted plane's status, and the drop reasons that moved (or, with none moving, the
 * largest totals).
 */
export function renderTop(prev: TopSample, now: TopSample, seconds: number, nowUnix: number, maxPeers = 20): string {
  const st = now.status;
  const rate = (a: number, b: number) => Math.max(0, b - a) / seconds;
  const lines: string[] = [];
  lines.push(`ferry top: ${String(st.interface)} (${String(st.kind)})  ${st.up ? 'up' : 'DOWN'} ${uptime(Number(st.uptimeSeconds ?? 0))}  mtu ${String(st.mtu)}  pool ${now.stats.pool.inUse}/${now.stats.pool.slots}  pid ${String(st.pid)}`);
  lines.push(`tun: from host ${formatRate(rate(prev.stats.tun.read, now.stats.tun.read), 'pkt')}, to host ${formatRate(rate(prev.stats.tun.written, now.stats.tun.written), 'pkt')}; dropped ${formatRate(rate(prev.stats.drops, now.stats.drops), 'pkt')} (${now.stats.drops} in all)`);

  if (now.peers.length > 0 || st.publicKey) {
    lines.push('');
    lines.push(`wireguard: ${now.peers.length} peer${now.peers.length === 1 ? '' : 's'}, port ${String(st.listenPort)}`);
    lines.push(`  ${pad('PEER', 11)}${pad('ENDPOINT', 24)}${pad('HANDSHAKE', 12)}${pad('RX', 12)}${pad('TX', 12)}DROPS`);
    const before = new Map(prev.peers.map((p) => [p.publicKey, p]));
    const rows = now.peers.map((p) => {
      const b = before.get(p.publicKey);
      return { p, rx: b ? rate(b.rxBytes, p.rxBytes) : 0, tx: b ? rate(b.txBytes, p.txBytes) : 0 };
    });
    rows.sort((x, y) => y.rx + y.tx - (x.rx + x.tx) || x.p.publicKey.localeCompare(y.p.publicKey));
    for (const { p, rx, tx } of rows.slice(0, maxPeers)) {
      const hs = p.latestHandshake === 0 ? 'never' : formatAge(nowUnix - p.latestHandshake);
      lines.push(`  ${pad(p.publicKey.slice(0, 8), 11)}${pad(p.endpoint ?? '(none)', 24)}${pad(hs, 12)}${pad(formatRate(rx, 'B'), 12)}${pad(formatRate(tx, 'B'), 12)}${p.drops}`);
    }
    if (rows.length > maxPeers) lines.push(`  ... ${rows.length - maxPeers} more`);
  }

  const planes = Object.entries(st).filter(([k]) => !PLAIN_STATUS.has(k));
  if (planes.length > 0) lines.push('');
  for (const [name, value] of planes) lines.push(planeLine(name, value));

  lines.push('');
  const moved = Object.entries(now.drops.total)
    .map(([reason, n]) => ({ reason, n, r: rate(prev.drops.total[reason] ?? 0, n) }))
    .filter((d) => d.n > 0)
    .sort((a, b) => b.r - a.r || b.n - a.n)
    .slice(0, 8);
  if (moved.length === 0) lines.push('drops: none');
  else {
    lines.push(`  ${pad('DROP REASON', 28)}${pad('RATE', 12)}TOTAL`);
    for (const d of moved) lines.push(`  ${pad(d.reason, 28)}${pad(formatRate(d.r, 'pkt'), 12)}${d.n}`);
  }
  return `${lines.join('\n')}\n`;
}
