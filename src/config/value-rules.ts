/**
 * The acceptance rules that wg's grammar (src/cli/wg/values.ts, wg's messages) and the
 * config file's (src/config/values.ts, file:line messages) share: each returns the value
 * or null, and each grammar words its own refusal.
 */

const U32_MAX = 0xffffffffn;

/** wg's parse_fwmark: "off", decimal, or hex after a lower-case "0x"; at most 0xffffffff. */
export function fwmarkValue(text: string): number | null {
  if (text.toLowerCase() === 'off') return 0;
  const hex = text.length > 2 && text[0] === '0' && text[1] === 'x';
  if (!(hex ? /^0x[0-9a-fA-F]+$/ : /^[0-9]+$/).test(text)) return null;
  const n = BigInt(text);
  return n <= U32_MAX ? Number(n) : null;
}

/** wg's parse_persistent_keepalive: "off" or seconds 0-65535. */
export function keepaliveValue(text: string): number | null {
  if (text.toLowerCase() === 'off') return 0;
  return /^[0-9]+$/.test(text) && BigInt(text) <= 65535n ? Number(text) : null;
}
