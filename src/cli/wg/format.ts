/**
 * wg(8)'s human formatting (show.c): durations ("1 minute, 5 seconds"), "… ago",
 * "every …", byte counts ("1.23 MiB"), and its terminal colours (terminal.c).
 * The strings carry wg's escape codes; filterAnsi() removes them exactly as wg does
 * when stdout is not a terminal, so the plain output is byte-identical to wg's.
 */

export const Term = {
  RESET: '\x1b[0m',
  BOLD: '\x1b[1m',
  RED: '\x1b[31m',
  GREEN: '\x1b[32m',
  YELLOW: '\x1b[33m',
  CYAN: '\x1b[36m',
} as const;

const YEAR = 365n * 24n * 60n * 60n;
const DAY = 24n * 60n * 60n;

function unit(value: bigint, name: string, first: boolean): string {
  return `${first ? '' : ', '}${value} ${Term.CYAN}${name}${value === 1n ? '' : 's'}${Term.RESET}`;
}

/** show.c pretty_time(): years, days, hours, minutes, seconds; zero parts left out ("" for 0). */
export function prettyTime(seconds: bigint): string {
  let left = seconds;
  const parts: [bigint, string][] = [];
  parts.push([left / YEAR, 'year']);
  left %= YEAR;
  parts.push([left / DAY, 'day']);
  left %= DAY;
  parts.push([left / 3600n, 'hour']);
  left %= 3600n;
  parts.push([left / 60n, 'minute']);
  parts.push([left % 60n, 'second']);
  let out = '';
  for (const [value, name] of parts) if (value !== 0n) out += unit(value, name, out === '');
  return out;
}

/** show.c ago(): "Now", "1 minute, 5 seconds ago", or the clock-went-backward notice. */
export function ago(handshakeSec: bigint, nowSec: bigint): string {
  if (nowSec === handshakeSec) return 'Now';
  if (nowSec < handshakeSec) return `(${Term.RED}System clock wound backward; connection problems may ensue.${Term.RESET})`;
  return `${prettyTime(nowSec - handshakeSec)} ago`;
}

/** show.c every(): "every 25 seconds". */
export function every(seconds: number): string {
  return `every ${prettyTime(BigInt(seconds))}`;
}

/**
 * printf("%.2f") of m / 2^shift, rounding as glibc does: on the exact binary value, ties
 * to even (Number#toFixed rounds ties up: 1.125 gives "1.13" where glibc prints "1.12").
 */
export function fixed2(m: bigint, shift: bigint): string {
  const scaled = m * 100n;
  const den = 1n << shift;
  let q = scaled / den;
  const r2 = (scaled % den) * 2n;
  if (r2 > den || (r2 === den && q % 2n === 1n)) q += 1n;
  const frac = (q % 100n).toString().padStart(2, '0');
  return `${q / 100n}.${frac}`;
}

const KIB = 1024n;

/** show.c bytes(): "512 B", "1.23 KiB" … "4.00 TiB" (binary units, two decimals). */
export function formatBytes(b: bigint): string {
  if (b < KIB) return `${b} ${Term.CYAN}B${Term.RESET}`;
  // wg divides the double (double)b, which rounds b above 2^53 first.
  const m = BigInt(Number(b));
  let shift: bigint;
  let name: string;
  if (b < KIB ** 2n) [shift, name] = [10n, 'KiB'];
  else if (b < KIB ** 3n) [shift, name] = [20n, 'MiB'];
  else if (b < KIB ** 4n) [shift, name] = [30n, 'GiB'];
  else [shift, name] = [40n, 'TiB'];
  return `${fixed2(m, shift)} ${Term.CYAN}${name}${Term.RESET}`;
}

function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/**
 * terminal.c filter_ansi(): drops every ESC '[' … up to and including the next letter.
 * Like wg it looks for ESC only before the last two characters of one printed piece.
 */
export function filterAnsi(s: string): string {
  const len = s.length;
  if (len < 2) return s;
  let out = '';
  let i = 0;
  let copied = 0;
  for (; i < len - 2; i++) {
    if (s.charCodeAt(i) !== 0x1b || s.charCodeAt(i + 1) !== 0x5b) continue;
    out += s.slice(copied, i);
    let j = i + 2;
    while (j < len && !isAlpha(s.charCodeAt(j))) j++;
    copied = Math.min(j + 1, len);
    i = copied - 1;
  }
  return out + s.slice(copied);
}

/** terminal.c color_mode(): WG_COLOR_MODE=always|never, otherwise whether stdout is a terminal. */
export function colorMode(env: NodeJS.ProcessEnv, stdoutIsTTY: boolean): boolean {
  const v = env.WG_COLOR_MODE;
  if (v === 'always') return true;
  if (v === 'never') return false;
  return stdoutIsTTY;
}
