/**
 * [FerryLb] (once per file) and [FerryService] (one per service): their schemas, and
 * readers that turn a section into typed settings, reporting each bad value with its
 * line. Importing this module registers both schemas (see sections.ts). Checks that
 * need more than one section (a VIP inside ServiceRange, a SNAT address for backends
 * reached through the host) are in lb-settings.ts.
 */
import { IPProto } from '../packet/constants.js';
import { Scheduler } from '../lb/service.js';
import { defaultHealth, type ServiceSettings } from '../lb/settings.js';
import { registerExtension } from './extensions.js';
import type { IssueList } from './issues.js';
import * as lv from './lb-values.js';
import type { ExtensionSection } from './model.js';
import { BadValue } from './values.js';
import { formatPrefix, type IpPrefix } from '../text/prefix.js';

export const LB_SECTION = 'FerryLb';
export const SERVICE_SECTION = 'FerryService';
const LB_KEYS = ['ServiceRange', 'SnatAddress', 'SnatPorts', 'ConntrackMax'] as const;
const SERVICE_KEYS = ['Name', 'Address', 'Protocol', 'Scheduler', 'Backend', 'SessionAffinity', 'HealthCheck', 'HealthInterval', 'UnhealthyThreshold', 'HealthyThreshold', 'Snat'] as const;

interface LbSectionValues {
  line: number;
  serviceRanges: IpPrefix[];
  snat: lv.ParsedAddress[];
  snatPorts: [number, number] | null;
  conntrackMax: number | null;
  /** Lines of the keys given, by canonical key. */
  lines: Record<string, number>;
}

/** Runs each entry of a section through `set`, reporting BadValue at the entry's line. */
function eachEntry(section: ExtensionSection, keys: readonly string[], issues: IssueList, set: (key: string, value: string, line: number) => void): Record<string, number> {
  const lines: Record<string, number> = {};
  for (const e of section.entries) {
    const key = keys.find((k) => k.toLowerCase() === e.key.toLowerCase());
    if (key === undefined) continue; // reported by checkExtensions
    lines[key] ??= e.line;
    try {
      if (e.value === '') throw new BadValue(`${key} has no value`);
      set(key, e.value, e.line);
    } catch (err) {
      if (!(err instanceof BadValue)) throw err;
      issues.error(e.line, err.message);
    }
  }
  return lines;
}

export function readLbSection(section: ExtensionSection, issues: IssueList): LbSectionValues {
  const out: LbSectionValues = { line: section.line, serviceRanges: [], snat: [], snatPorts: null, conntrackMax: null, lines: {} };
  out.lines = eachEntry(section, LB_KEYS, issues, (key, value) => {
    if (key === 'ServiceRange') out.serviceRanges = lv.parseServiceRanges(value);
    else if (key === 'SnatAddress') out.snat = lv.parseSnatAddresses(value);
    else if (key === 'SnatPorts') out.snatPorts = lv.parsePortRange(value);
    else if (key === 'ConntrackMax') out.conntrackMax = lv.parseConntrackMax(value);
  });
  if (out.lines.ServiceRange === undefined) issues.error(section.line, `[${LB_SECTION}] has no ServiceRange: expected ServiceRange = ADDRESS/PREFIX (where the VIPs live)`);
  const snatLine = out.lines.SnatAddress;
  for (const a of out.snat) {
    if (out.serviceRanges.length > 0 && !out.serviceRanges.some((p) => contains(p, a))) {
      issues.error(snatLine ?? section.line, `SnatAddress ${a.text} is outside ServiceRange: replies to it must be routed into the TUN, so expected an address inside ServiceRange`);
    }
  }
  return out;
}

/** The settings of one [FerryService], or null when it has errors (reported). */
export function readServiceSection(section: ExtensionSection, issues: IssueList): ServiceSettings | null {
  const before = issues.errors.length;
  const health = defaultHealth();
  let name: string | null = null;
  let vip: ReturnType<typeof lv.parseEndpoint> | null = null;
  let proto: number = IPProto.TCP;
  let scheduler: number = Scheduler.Maglev;
  let affinityMs = 0;
  let snatAlways = false;
  const backends: Array<lv.ParsedBackend & { line: number }> = [];
  eachEntry(section, SERVICE_KEYS, issues, (key, value, line) => {
    switch (key) {
      case 'Name':
        name = lv.parseServiceName(value);
        return;
      case 'Address':
        vip = lv.parseEndpoint('Address', value);
        return;
      case 'Protocol':
        proto = lv.parseProtocol(value);
        return;
      case 'Scheduler':
        scheduler = lv.parseScheduler(value);
        return;
      case 'Backend': {
        const b = lv.parseBackend(value);
        const twin = backends.find((x) => x.name === b.name);
        if (twin !== undefined) throw new BadValue(`Backend ${b.name} is given twice (first at line ${twin.line})`);
        backends.push({ ...b, line });
        return;
      }
      case 'SessionAffinity':
        affinityMs = lv.parseAffinity(value);
        return;
      case 'HealthCheck':
        lv.parseHealthCheck(value, health);
        return;
      case 'HealthInterval':
        health.intervalMs = lv.parseInterval(value);
        return;
      case 'UnhealthyThreshold':
        health.unhealthyThreshold = lv.parseThreshold(key, value);
        return;
      case 'HealthyThreshold':
        health.healthyThreshold = lv.parseThreshold(key, value);
        return;
      case 'Snat':
        snatAlways = lv.parseSnatMode(value);
        return;
    }
  });
  if (name === null && !section.entries.some((e) => e.key.toLowerCase() === 'name')) issues.error(section.line, `[${SERVICE_SECTION}] has no Name: expected Name = NAME`);
  if (vip === null && !section.entries.some((e) => e.key.toLowerCase() === 'address')) issues.error(section.line, `[${SERVICE_SECTION}] has no Address: expected Address = VIP:PORT or [VIP6]:PORT`);
  const v = vip as ReturnType<typeof lv.parseEndpoint> | null;
  if (v !== null) {
    for (const b of backends) if (b.family !== v.family) issues.error(b.line, `Backend ${b.name} is IPv${b.family} but the service address is IPv${v.family}: expected backends of the service's family`);
  }
  if (issues.errors.length !== before || name === null || v === null) return null;
  return {
    name,
    family: v.family,
    vip: v.bytes,
    port: v.port,
    proto,
    scheduler,
    affinityMs,
    snatAlways,
    health,
    backends: backends.map((b) => ({ family: b.family, address: b.bytes, port: b.port, weight: b.weight, drain: b.drain, host: b.text, name: b.name, line: b.line })),
    line: section.line,
  };
}

/** True when prefix p holds address a. */
export function contains(p: IpPrefix, a: { family: 4 | 6; bytes: Uint8Array }): boolean {
  if (p.family !== a.family) return false;
  for (let bit = 0; bit < p.cidr; bit++) {
    const m = 0x80 >> (bit & 7);
    if ((p.bytes[bit >> 3] & m) !== (a.bytes[bit >> 3] & m)) return false;
  }
  return true;
}

registerExtension({
  name: LB_SECTION,
  keys: LB_KEYS,
  multiple: false,
  check: (section, issues) => void readLbSection(section, issues),
  // ferry up routes the service range into the interface: the VIPs and the SNAT addresses live there.
  routes(section) {
    const range = section.entries.find((e) => e.key.toLowerCase() === 'servicerange');
    return range === undefined ? [] : lv.parseServiceRanges(range.value).map(formatPrefix);
  },
});
registerExtension({ name: SERVICE_SECTION, keys: SERVICE_KEYS, repeatable: ['Backend'], multiple: true, check: (section, issues) => void readServiceSection(section, issues) });
