/**
 * [FerryVxlan] and [FerryVxlanPeer]: the schemas the parser checks them against, key by
 * key, with file:line. What spans sections (peers without [FerryVxlan], a MAC or subnet
 * given twice) is checked when the settings are built (vxlan-settings.ts).
 */
import { registerExtension } from './extensions.js';
import type { IssueList } from './issues.js';
import type { ExtensionSection } from './model.js';
import { BadValue, parseBool } from './values.js';
import { parseMode, parseSubnets, parseUnderlayAddress, parseVni, parseVtepMac, parseVxlanPort } from './vxlan-values.js';
import { formatPrefix } from '../text/prefix.js';

export const VXLAN_SECTION = 'FerryVxlan';
export const VXLAN_PEER_SECTION = 'FerryVxlanPeer';
const VXLAN_KEYS = ['VNI', 'Port', 'Local', 'VtepMAC', 'Learning', 'Mode'] as const;
const VXLAN_PEER_KEYS = ['Remote', 'VtepMAC', 'Subnets'] as const;

const parsers: Record<string, (value: string) => unknown> = {
  vni: parseVni,
  port: parseVxlanPort,
  local: (v) => parseUnderlayAddress('Local', v),
  remote: (v) => parseUnderlayAddress('Remote', v),
  vtepmac: parseVtepMac,
  learning: (v) => parseBool('Learning', v),
  mode: parseMode,
  subnets: parseSubnets,
};

/** Checks every value of a section; returns the parsed values by lower-case key (for cross-key checks). */
function checkValues(section: ExtensionSection, issues: IssueList): Map<string, { value: unknown; line: number }> {
  const parsed = new Map<string, { value: unknown; line: number }>();
  for (const e of section.entries) {
    const key = e.key.toLowerCase();
    try {
      parsed.set(key, { value: parsers[key](e.value), line: e.line });
    } catch (err) {
      if (!(err instanceof BadValue)) throw err;
      issues.error(e.line, err.message);
    }
  }
  return parsed;
}

registerExtension({
  name: VXLAN_SECTION,
  keys: VXLAN_KEYS,
  multiple: false,
  check(section, issues) {
    const v = checkValues(section, issues);
    const learning = v.get('learning');
    if (learning?.value === true && (v.get('mode')?.value ?? 'l3') === 'l3') {
      issues.error(learning.line, 'Learning applies to Mode = l2 only: an L3 VTEP (the default mode) has static peers');
    }
  },
});

registerExtension({
  name: VXLAN_PEER_SECTION,
  keys: VXLAN_PEER_KEYS,
  multiple: true,
  // ferry up routes each peer's subnets into the interface (flannel's onlink routes).
  routes(section) {
    const subnets = section.entries.find((e) => e.key.toLowerCase() === 'subnets');
    return subnets === undefined ? [] : parseSubnets(subnets.value).map(formatPrefix);
  },
  check(section, issues) {
    checkValues(section, issues);
    if (!section.entries.some((e) => e.key.toLowerCase() === 'remote')) issues.error(section.line, `[${VXLAN_PEER_SECTION}] has no Remote: expected the peer's underlay address`);
  },
});
