/**
 * From a parsed config to the load balancer's typed settings, with the checks that need
 * the whole file: a [FerryService] needs [FerryLb]; each VIP lies in ServiceRange and is
 * no interface address; names and VIP:port/protocol are unique; a service with backends
 * reached through the host (not inside any [Peer]'s AllowedIPs) — or with Snat = always —
 * needs a SnatAddress of its family; the Maglev tables of all services fit their bound.
 * Every problem is reported with file:line, and nothing is returned unless all is well.
 */
import { maglevTableSize } from '../lb/maglev.js';
import { Scheduler } from '../lb/service.js';
import { DEFAULT_CONNTRACK_MAX, DEFAULT_SNAT_PORTS, MAX_SERVICES, MAX_TOTAL_TABLE_SLOTS, type LbSettings, type ServiceSettings } from '../lb/settings.js';
import { IssueList } from './issues.js';
import { contains, LB_SECTION, readLbSection, readServiceSection, SERVICE_SECTION } from './lb-sections.js';
import type { WgQuickConfig } from './model.js';

/** The LB settings of a config, or null when it has neither [FerryLb] nor [FerryService]. Throws ConfigError. */
export function lbSettingsFromConfig(config: WgQuickConfig): LbSettings | null {
  const issues = new IssueList(config.source.file);
  const lbSections = config.extensions.filter((s) => s.name.toLowerCase() === LB_SECTION.toLowerCase());
  const serviceSections = config.extensions.filter((s) => s.name.toLowerCase() === SERVICE_SECTION.toLowerCase());
  if (lbSections.length === 0 && serviceSections.length === 0) return null;
  if (lbSections.length === 0) {
    issues.error(serviceSections[0].line, `[${SERVICE_SECTION}] needs a [${LB_SECTION}] section: expected [${LB_SECTION}] with ServiceRange (and SnatAddress) in this file`);
    issues.throwIfAny();
  }
  const lb = readLbSection(lbSections[0], issues);
  const services: ServiceSettings[] = [];
  for (const section of serviceSections) {
    const s = readServiceSection(section, issues);
    if (s !== null) services.push(s);
  }
  if (serviceSections.length > MAX_SERVICES) issues.error(serviceSections[MAX_SERVICES].line, `more than ${MAX_SERVICES} services in one file`);
  const snatV4 = lb.snat.find((a) => a.family === 4) ?? null;
  const snatV6 = lb.snat.find((a) => a.family === 6) ?? null;
  const names = new Map<string, number>();
  const vips = new Map<string, { name: string; line: number }>();
  let slots = 0;
  for (const s of services) {
    const first = names.get(s.name);
    if (first !== undefined) issues.error(s.line, `service name ${s.name} is taken by the [${SERVICE_SECTION}] at line ${first}: expected unique names`);
    names.set(s.name, s.line);
    const vip = { family: s.family, bytes: s.vip };
    const key = `${s.proto}/${[...s.vip].join('.')}/${s.port}`;
    const twin = vips.get(key);
    if (twin !== undefined) issues.error(s.line, `service ${s.name} has the address and protocol of service ${twin.name} (line ${twin.line})`);
    vips.set(key, { name: s.name, line: s.line });
    if (lb.serviceRanges.length > 0 && !lb.serviceRanges.some((p) => contains(p, vip))) {
      issues.error(s.line, `service ${s.name}: its address is outside ServiceRange: expected a VIP inside ${LB_SECTION}'s ServiceRange (that range is routed into the TUN)`);
    }
    if (config.interface.addresses.some((a) => contains({ ...a, cidr: a.family === 4 ? 32 : 128 }, vip))) {
      issues.error(s.line, `service ${s.name}: its address is an [Interface] Address: the host would take its packets, expected an address only ferry answers`);
    }
    const snat = s.family === 4 ? snatV4 : snatV6;
    if (snat !== null && [...snat.bytes].every((x, i) => x === s.vip[i])) issues.error(s.line, `service ${s.name}: its address is the SnatAddress`);
    if (snat === null) {
      const host = s.backends.find((b) => s.snatAlways || !config.peers.some((p) => p.allowedIps.some((a) => contains(a, { family: b.family, bytes: b.address }))));
      if (host !== undefined) {
        const why = s.snatAlways ? 'it has Snat = always' : `backend ${host.name} is reached through the host (no [Peer] AllowedIPs hold it), so its replies must come back to a SnatAddress`;
        issues.error(s.line, `service ${s.name}: ${why}: expected an IPv${s.family} SnatAddress in [${LB_SECTION}]`);
      }
    }
    if (s.scheduler === Scheduler.Maglev && s.backends.length > 0) slots += maglevTableSize(s.backends.map((b) => b.weight));
  }
  if (slots > MAX_TOTAL_TABLE_SLOTS) issues.error(lb.line, `the Maglev tables of all services need ${slots} slots, above the bound of ${MAX_TOTAL_TABLE_SLOTS}: expected fewer services or backends`);
  issues.throwIfAny();
  return {
    serviceRanges: lb.serviceRanges,
    snatV4: snatV4?.bytes ?? null,
    snatV6: snatV6?.bytes ?? null,
    snatPorts: lb.snatPorts ?? [DEFAULT_SNAT_PORTS[0], DEFAULT_SNAT_PORTS[1]],
    conntrackMax: lb.conntrackMax ?? DEFAULT_CONNTRACK_MAX,
    services,
  };
}
