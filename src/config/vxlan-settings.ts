/**
 * Turns a parsed config's [FerryVxlan] and [FerryVxlanPeer] sections into typed VXLAN
 * settings, checking what spans sections; every problem is reported with file:line and
 * nothing is returned from a bad file. Values were checked by the schemas at parse time
 * (vxlan-sections.ts), so they parse again here without failing.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { DEFAULT_PORT, DEFAULT_VNI, VXLAN_OVERHEAD_IPV4, VXLAN_OVERHEAD_IPV6 } from '../vxlan/constants.js';
import type { VxlanMode, VxlanPeerSettings, VxlanSettings } from '../vxlan/settings.js';
import { deriveVtepMac } from '../vxlan/vtep-mac.js';
import { IssueList } from './issues.js';
import type { ExtensionSection, WgQuickConfig } from './model.js';
import { parseBool } from './values.js';
import { VXLAN_PEER_SECTION, VXLAN_SECTION } from './vxlan-sections.js';
import { parseMode, parseSubnets, parseUnderlayAddress, parseVni, parseVtepMac, parseVxlanPort } from './vxlan-values.js';
import { formatPrefix } from '../text/prefix.js';

interface VxlanSettingsOptions {
  /** The interface name (the config file's), part of a derived VTEP MAC. */
  ifname: string;
  /** The host's identity for a derived VTEP MAC; default /etc/machine-id, else the hostname. */
  hostId?: string;
}

/** /etc/machine-id (stable across reboots and renames), else the hostname. */
function hostIdentity(): string {
  try {
    const id = readFileSync('/etc/machine-id', 'utf8').trim();
    if (id !== '') return id;
  } catch {
    // no machine id (a minimal container): the hostname will do
  }
  return hostname();
}

function entry(section: ExtensionSection, key: string): { value: string; line: number } | undefined {
  return section.entries.find((e) => e.key.toLowerCase() === key.toLowerCase());
}

function macText(mac: Uint8Array): string {
  return [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/**
 * The VXLAN settings of a config, or null when it has no [FerryVxlan]. Throws ConfigError
 * (every problem, file:line) when peers come without [FerryVxlan], a peer lacks what its
 * mode needs, two peers share a Remote, a MAC or a subnet, or a family does not match Local.
 */
export function vxlanSettings(config: WgQuickConfig, options: VxlanSettingsOptions): VxlanSettings | null {
  const issues = new IssueList(config.source.file);
  const main = config.extensions.find((s) => s.name.toLowerCase() === VXLAN_SECTION.toLowerCase());
  const peerSections = config.extensions.filter((s) => s.name.toLowerCase() === VXLAN_PEER_SECTION.toLowerCase());
  if (main === undefined) {
    for (const s of peerSections) issues.error(s.line, `[${VXLAN_PEER_SECTION}] without [${VXLAN_SECTION}]: expected a [${VXLAN_SECTION}] section in the same file`);
    issues.throwIfAny();
    return null;
  }
  const get = (key: string) => entry(main, key);
  const vni = get('VNI') ? parseVni(get('VNI')!.value) : DEFAULT_VNI;
  const mode: VxlanMode = get('Mode') ? parseMode(get('Mode')!.value) : 'l3';
  const localEntry = get('Local');
  const local = localEntry ? parseUnderlayAddress('Local', localEntry.value) : null;
  const macEntry = get('VtepMAC');
  const vtepMac = macEntry ? parseVtepMac(macEntry.value) : deriveVtepMac(options.hostId ?? hostIdentity(), options.ifname, vni);

  const peers: VxlanPeerSettings[] = [];
  const remotes = new Map<string, number>();
  const macs = new Map<string, number>();
  const subnets = new Map<string, number>();
  for (const s of peerSections) {
    const remoteEntry = entry(s, 'Remote')!;
    const remote = parseUnderlayAddress('Remote', remoteEntry.value);
    const peerMacEntry = entry(s, 'VtepMAC');
    const subnetEntry = entry(s, 'Subnets');
    const peer: VxlanPeerSettings = {
      remote: remote.address,
      family: remote.family,
      vtepMac: peerMacEntry ? parseVtepMac(peerMacEntry.value) : null,
      subnets: subnetEntry ? parseSubnets(subnetEntry.value) : [],
      line: s.line,
    };
    const seenRemote = remotes.get(remote.address);
    if (seenRemote !== undefined) issues.error(remoteEntry.line, `Remote ${remote.address} is already the peer at line ${seenRemote}: expected one [${VXLAN_PEER_SECTION}] per remote VTEP`);
    remotes.set(remote.address, s.line);
    if (local !== null && local.family !== remote.family) {
      issues.error(remoteEntry.line, `Remote ${remote.address} is IPv${remote.family} but Local ${local.address} (line ${localEntry!.line}) is IPv${local.family}: expected one underlay family`);
    }
    if (peer.vtepMac !== null) {
      const text = macText(peer.vtepMac);
      if (text === macText(vtepMac)) issues.error(peerMacEntry!.line, `VtepMAC ${text} is this interface's own VTEP MAC: expected the peer's`);
      const seen = macs.get(text);
      if (seen !== undefined) issues.error(peerMacEntry!.line, `VtepMAC ${text} is already the peer at line ${seen}'s: expected one MAC per VTEP`);
      macs.set(text, s.line);
    }
    if (mode === 'l3') {
      if (peer.vtepMac === null) issues.error(s.line, `[${VXLAN_PEER_SECTION}] has no VtepMAC: an L3 VTEP peer needs its VTEP MAC (flannel's VtepMAC)`);
      if (peer.subnets.length === 0) issues.error(s.line, `[${VXLAN_PEER_SECTION}] has no Subnets: an L3 VTEP peer needs the inner prefixes it owns`);
      for (const p of peer.subnets) {
        const key = formatPrefix(p);
        const seen = subnets.get(key);
        if (seen !== undefined) issues.error(subnetEntry!.line, `Subnets entry ${key} is already the peer at line ${seen}'s: expected each subnet once`);
        subnets.set(key, s.line);
      }
    } else if (subnetEntry !== undefined) {
      issues.error(subnetEntry.line, 'Subnets applies to Mode = l3 only: an L2 VTEP carries frames, not routes');
    }
    peers.push(peer);
  }
  issues.throwIfAny();
  const underlayFamily: 4 | 6 = local !== null ? local.family : peers.some((p) => p.family === 6) ? 6 : 4;
  return {
    mode,
    vni,
    port: get('Port') ? parseVxlanPort(get('Port')!.value) : DEFAULT_PORT,
    local: local?.address ?? null,
    vtepMac,
    vtepMacDerived: macEntry === undefined,
    learning: get('Learning') ? parseBool('Learning', get('Learning')!.value) : false,
    peers,
    underlayFamily,
    line: main.line,
  };
}

/**
 * Where the VXLAN underlay of a config goes, for `ferry up`'s MTU when MTU is not set:
 * the peers' addresses, each with its overhead (50 over IPv4, 70 over IPv6), and the
 * overhead to take from the default route when no peer gives a path. Null without
 * [FerryVxlan]. The file was checked by the parser; nothing here throws for it.
 */
export function vxlanUnderlay(config: WgQuickConfig): { peers: Array<{ address: string; overhead: number }>; fallbackOverhead: number } | null {
  const main = config.extensions.find((s) => s.name.toLowerCase() === VXLAN_SECTION.toLowerCase());
  if (main === undefined) return null;
  const overhead = (family: 4 | 6) => (family === 6 ? VXLAN_OVERHEAD_IPV6 : VXLAN_OVERHEAD_IPV4);
  const peers: Array<{ address: string; overhead: number }> = [];
  for (const s of config.extensions) {
    if (s.name.toLowerCase() !== VXLAN_PEER_SECTION.toLowerCase()) continue;
    const remote = entry(s, 'Remote');
    if (remote === undefined) continue;
    const r = parseUnderlayAddress('Remote', remote.value);
    peers.push({ address: r.address, overhead: overhead(r.family) });
  }
  const local = entry(main, 'Local');
  const family = local !== undefined ? parseUnderlayAddress('Local', local.value).family : peers.some((p) => p.overhead === VXLAN_OVERHEAD_IPV6) ? 6 : 4;
  return { peers, fallbackOverhead: overhead(family) };
}
