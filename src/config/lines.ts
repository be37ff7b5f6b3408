import { WG_SPACE } from './constants.js';

/**
 * Splits a config into classified lines, the way both readers of the format see them:
 * wg(8) cuts each line at the first '#' and deletes every whitespace character before
 * matching ("Listen Port = 1" is "ListenPort=1"); wg-quick cuts at '#' too but only trims
 * the ends of key and value, so its hook commands keep their inner spaces.
 */
type ScannedLine =
  | { kind: 'blank'; line: number; raw: string }
  | { kind: 'section'; line: number; raw: string; name: string }
  | {
      kind: 'entry';
      line: number;
      raw: string;
      /** The key with all whitespace removed (wg's view). */
      key: string;
      /** The value with all whitespace removed (wg's view). */
      value: string;
      /** Key and value with only the ends trimmed (wg-quick's view). */
      trimmedKey: string;
      trimmedValue: string;
    }
  | { kind: 'malformed'; line: number; raw: string; reason: 'header' | 'no-equals' };

const EDGE_SPACE = /^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g;
const SECTION = /^\[([^[\]]+)\]$/;

function trimSpace(s: string): string {
  return s.replace(EDGE_SPACE, '');
}

/** The lines of a text as a shell `read` loop sees them: a final newline ends the last line. */
function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function scanLine(raw: string, line: number): ScannedLine {
  const hash = raw.indexOf('#');
  const content = hash < 0 ? raw : raw.slice(0, hash);
  const compact = content.replace(WG_SPACE, '');
  if (compact === '') return { kind: 'blank', line, raw };
  if (compact[0] === '[') {
    const m = SECTION.exec(compact);
    return m ? { kind: 'section', line, raw, name: m[1] } : { kind: 'malformed', line, raw, reason: 'header' };
  }
  const eq = compact.indexOf('=');
  if (eq <= 0) return { kind: 'malformed', line, raw, reason: 'no-equals' };
  const rawEq = content.indexOf('=');
  return {
    kind: 'entry',
    line,
    raw,
    key: compact.slice(0, eq),
    value: compact.slice(eq + 1),
    trimmedKey: trimSpace(content.slice(0, rawEq)),
    trimmedValue: trimSpace(content.slice(rawEq + 1)),
  };
}

export function scanLines(text: string): ScannedLine[] {
  return splitLines(text).map((raw, i) => scanLine(raw, i + 1));
}
