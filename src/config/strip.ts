/**
 * `wg-quick strip`: the config as wg(8) can read it. Like wg-quick's parse_options it
 * keeps every line (comments and blank lines too, each trimmed of surrounding spaces and
 * tabs as bash's `read` does) except the wg-quick keys (and ferry's FerryOffload) of [Interface] sections, and prints
 * them followed by one more newline (its `echo "$WG_CONFIG"`). On top of that, ferry turns
 * PrivateKeyFile / PresharedKeyFile into the PrivateKey / PresharedKey lines wg
 * understands, and keeps its [Ferry…] sections whole for `ferry syncconf` (`ferry strip`)
 * or drops them for the real wg(8), which knows no such section ('drop').
 */
import { formatKeyBase64 } from '../wireguard/keys.js';
import { FERRY_DAEMON_KEYS, FERRY_SECTION_PREFIX, WG_QUICK_KEYS } from './constants.js';
import { scanLines } from './lines.js';
import type { WgQuickConfig } from './model.js';
import { parseConfig, type ParseOptions } from './parse.js';

/** [Interface] keys wg(8) does not know: wg-quick's own and ferry's daemon settings. */
const QUICK = new Set<string>([...WG_QUICK_KEYS, ...FERRY_DAEMON_KEYS].map((k) => k.toLowerCase()));
const IFS_EDGES = /^[ \t]+|[ \t]+$/g;

/** Strips a parsed config, or parses (and so validates) a text first. */
export function stripConfig(input: WgQuickConfig | string, options: ParseOptions = {}, ferrySections: 'keep' | 'drop' = 'drop'): string {
  const config = typeof input === 'string' ? parseConfig(input, options) : input;
  const out: string[] = [];
  let section: 'none' | 'interface' | 'peer' | 'ferry' | 'other' = 'none';
  let peer = -1;
  for (const l of scanLines(config.source.text)) {
    if (l.kind === 'section') {
      const lower = l.name.toLowerCase();
      section = lower === 'interface' ? 'interface' : lower === 'peer' ? 'peer' : lower.startsWith(FERRY_SECTION_PREFIX) ? 'ferry' : 'other';
      if (section === 'peer') peer++;
    }
    if (section === 'ferry' && ferrySections === 'drop') continue;
    if (l.kind === 'entry') {
      const key = l.key.toLowerCase();
      if (section === 'interface' && QUICK.has(key)) continue;
      if (section === 'interface' && key === 'privatekeyfile' && config.interface.privateKey !== null) {
        out.push(`PrivateKey = ${formatKeyBase64(config.interface.privateKey)}`);
        continue;
      }
      const psk = section === 'peer' && key === 'presharedkeyfile' ? config.peers[peer]?.presharedKey : null;
      if (psk) {
        out.push(`PresharedKey = ${formatKeyBase64(psk)}`);
        continue;
      }
    }
    out.push(l.raw.replace(IFS_EDGES, ''));
  }
  return out.map((line) => `${line}\n`).join('') + '\n';
}
