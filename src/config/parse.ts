/**
 * The wg-quick configuration parser. It reads a file the way wg(8) and wg-quick(8) do
 * (see lines.ts), checks every value, and either returns the whole model or throws one
 * ConfigError listing every problem with file:line — nothing of a bad file is applied.
 *
 * Where ferry is stricter than wg, it rejects what wg would silently take the last of:
 * a single-valued key given twice, and the same peer twice.
 */
import { dirname, resolve } from 'node:path';
import { isZeroKey, publicKeyFromPrivate } from '../wireguard/keys.js';
import { FERRY_SECTION_PREFIX, INTERFACE_KEYS, PEER_KEYS, REPEATABLE_KEYS } from './constants.js';
import { parseEndpointSpec } from './endpoint-spec.js';
import { checkExtensions } from './extensions.js';
import './sections.js';
import { IssueList, quote } from './issues.js';
import { readKeyFile, resolveKeyPath } from './key-file.js';
import { scanLines } from './lines.js';
import { emptyInterface, type ExtensionSection, type PeerConfig, type WgQuickConfig } from './model.js';
import * as v from './values.js';
import { formatPrefix, hasHostBits } from '../text/prefix.js';

export interface ParseOptions {
  /** The name used in messages (and, when dir is not given, whose directory key files are relative to). */
  file?: string;
  /** Directory that relative PrivateKeyFile / PresharedKeyFile paths resolve against. */
  dir?: string;
}

/** A [Peer] being read: its PublicKey may not have come yet. */
type PeerDraft = Omit<PeerConfig, 'publicKey'> & { publicKey: Uint8Array | null };

type Section =
  | { kind: 'none' }
  | { kind: 'interface' }
  | { kind: 'peer'; peer: PeerDraft }
  | { kind: 'extension'; section: ExtensionSection }
  | { kind: 'skip' };

/** What an empty value should have been, for keys where empty is an error. */
const EXPECTED: Record<string, string> = {
  PrivateKey: 'a base64 key',
  PrivateKeyFile: 'a path to a file holding a base64 key',
  ListenPort: 'a port 0-65535',
  FwMark: 'off or a number',
  SaveConfig: 'true or false',
  FerryOffload: 'on or off',
  PublicKey: 'a base64 key',
  PresharedKey: 'a base64 key',
  PresharedKeyFile: 'a path to a file holding a base64 key',
  AllowedIPs: 'a comma-separated list of ADDRESS[/PREFIX]',
  Endpoint: 'HOST:PORT or [IPv6]:PORT',
  PersistentKeepalive: 'off or seconds 0-65535',
};

/** wg-quick's own keys and ferry's file keys read the end-trimmed value (paths, hook commands keep their spaces). */
const TRIMMED_VALUE = new Set(['Address', 'DNS', 'MTU', 'Table', 'PreUp', 'PostUp', 'PreDown', 'PostDown', 'SaveConfig', 'PrivateKeyFile', 'PresharedKeyFile', 'FerryOffload']);

/**
 * An unknown key is named in the message only when it looks like a key name: a pasted
 * base64 key ends in '=' and would otherwise be echoed back as the "key".
 */
function keyName(key: string): string {
  return /^[A-Za-z][A-Za-z0-9_-]{0,31}$/.test(key) ? `unknown key ${quote(key)}` : 'an unknown key (not shown: it may be key material)';
}

function canonical(keys: readonly string[], key: string): string | undefined {
  const k = key.toLowerCase();
  return keys.find((c) => c.toLowerCase() === k);
}

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

export function parseConfig(text: string, options: ParseOptions = {}): WgQuickConfig {
  const file = options.file ?? '<config>';
  const dir = options.dir ?? (options.file !== undefined ? dirname(resolve(options.file)) : process.cwd());
  const issues = new IssueList(file);
  const iface = emptyInterface();
  const drafts: PeerDraft[] = [];
  const extensions: ExtensionSection[] = [];
  let section: Section = { kind: 'none' };

  const setInterface = (key: string, value: string, line: number): void => {
    switch (key) {
      case 'PrivateKey':
      case 'PrivateKeyFile': {
        const other = key === 'PrivateKey' ? 'PrivateKeyFile' : 'PrivateKey';
        const otherLine = iface.lines[other];
        if (otherLine !== undefined) throw new v.BadValue(`${key} conflicts with ${other} at line ${otherLine}: expected only one of them`);
        if (key === 'PrivateKey') {
          iface.privateKey = v.parseKey(key, value);
        } else {
          const got = readKeyFile(key, resolveKeyPath(value, dir));
          if (got.worldReadable) issues.warn(line, `${key} ${quote(got.path)} is readable by every user: expected mode 0600`);
          iface.privateKey = got.key;
          iface.privateKeyFile = got.path;
        }
        return;
      }
      case 'ListenPort':
        iface.listenPort = v.parseListenPort(value);
        return;
      case 'FwMark':
        iface.fwmark = v.parseFwmark(value);
        return;
      case 'Address':
        iface.addresses.push(...v.parseAddresses(value));
        return;
      case 'DNS': {
        const dns = v.parseDns(value);
        iface.dns.push(...dns.servers);
        iface.dnsSearch.push(...dns.search);
        return;
      }
      case 'MTU':
        if (value !== '') iface.mtu = v.parseMtu(value);
        return;
      case 'Table':
        if (value !== '') iface.table = v.parseTable(value);
        return;
      case 'SaveConfig':
        iface.saveConfig = v.parseBool(key, value);
        return;
      case 'FerryOffload':
        iface.offload = v.parseOnOff(key, value);
        return;
      case 'PreUp':
      case 'PostUp':
      case 'PreDown':
      case 'PostDown': {
        const list = key === 'PreUp' ? iface.preUp : key === 'PostUp' ? iface.postUp : key === 'PreDown' ? iface.preDown : iface.postDown;
        if (value !== '') list.push(value);
        return;
      }
    }
  };

  const setPeer = (peer: PeerDraft, key: string, value: string, line: number): void => {
    switch (key) {
      case 'PublicKey':
        peer.publicKey = v.parseKey(key, value);
        return;
      case 'PresharedKey':
      case 'PresharedKeyFile': {
        const other = key === 'PresharedKey' ? 'PresharedKeyFile' : 'PresharedKey';
        const otherLine = peer.lines[other];
        if (otherLine !== undefined) throw new v.BadValue(`${key} conflicts with ${other} at line ${otherLine}: expected only one of them`);
        if (key === 'PresharedKey') {
          peer.presharedKey = v.parseKey(key, value);
        } else {
          const got = readKeyFile(key, resolveKeyPath(value, dir));
          if (got.worldReadable) issues.warn(line, `${key} ${quote(got.path)} is readable by every user: expected mode 0600`);
          peer.presharedKey = got.key;
          peer.presharedKeyFile = got.path;
        }
        return;
      }
      case 'AllowedIPs':
        for (const p of v.parseAllowedIps(value)) {
          if (hasHostBits(p)) issues.warn(line, `AllowedIPs entry ${formatPrefix(p)} has a nonzero host part (wg warns the same; the device masks it)`);
          peer.allowedIps.push(p);
        }
        return;
      case 'Endpoint':
        peer.endpoint = parseEndpointSpec(value);
        return;
      case 'PersistentKeepalive':
        peer.persistentKeepalive = v.parseKeepalive(value);
        return;
    }
  };

  for (const l of scanLines(text)) {
    if (l.kind === 'blank') continue;
    if (l.kind === 'malformed' && l.reason === 'header') {
      issues.error(l.line, 'malformed section header: expected [Interface], [Peer] or a [Ferry…] section');
      section = { kind: 'skip' };
      continue;
    }
    if (l.kind === 'section') {
      const lower = l.name.toLowerCase();
      if (lower === 'interface') {
        if (iface.line === 0) iface.line = l.line;
        section = { kind: 'interface' };
      } else if (lower === 'peer') {
        const peer: PeerDraft = { line: l.line, publicKey: null, presharedKey: null, presharedKeyFile: null, allowedIps: [], endpoint: null, persistentKeepalive: null, lines: {} };
        drafts.push(peer);
        section = { kind: 'peer', peer };
      } else if (lower.startsWith(FERRY_SECTION_PREFIX)) {
        const ext: ExtensionSection = { name: l.name, line: l.line, entries: [] };
        extensions.push(ext);
        section = { kind: 'extension', section: ext };
      } else {
        issues.error(l.line, `unknown section [${l.name}]: expected [Interface], [Peer] or a [Ferry…] section`);
        section = { kind: 'skip' };
      }
      continue;
    }
    if (section.kind === 'skip') continue;
    if (l.kind === 'malformed') {
      issues.error(l.line, 'line is not "Key = Value" nor a [Section] header');
      continue;
    }
    if (section.kind === 'extension') {
      section.section.entries.push({ key: l.trimmedKey, value: l.trimmedValue, line: l.line });
      continue;
    }
    const inInterface = canonical(INTERFACE_KEYS, l.key);
    const inPeer = canonical(PEER_KEYS, l.key);
    if (section.kind === 'none') {
      const where = inInterface ? ': expected it under [Interface]' : inPeer ? ': expected it under [Peer]' : ': expected an [Interface] or [Peer] header first';
      issues.error(l.line, `${inInterface ?? inPeer ?? keyName(l.key)} is outside any section${where}`);
      continue;
    }
    const here = section.kind === 'interface' ? 'Interface' : 'Peer';
    const key = section.kind === 'interface' ? inInterface : inPeer;
    if (key === undefined) {
      const elsewhere = section.kind === 'interface' ? inPeer : inInterface;
      if (elsewhere !== undefined) issues.error(l.line, `${elsewhere} belongs in [${here === 'Interface' ? 'Peer' : 'Interface'}], not [${here}]`);
      else issues.error(l.line, `${keyName(l.key)} in [${here}]: expected one of ${(section.kind === 'interface' ? INTERFACE_KEYS : PEER_KEYS).join(', ')}`);
      continue;
    }
    const lines = section.kind === 'interface' ? iface.lines : section.peer.lines;
    const first = lines[key];
    if (first !== undefined && !REPEATABLE_KEYS.has(key)) {
      issues.error(l.line, `${key} is given twice (first at line ${first}): expected it once per [${here}]`);
      continue;
    }
    const value = TRIMMED_VALUE.has(key) ? l.trimmedValue : l.value;
    try {
      // wg rejects any empty value; wg-quick reads an empty Address, DNS, MTU, Table or hook as "none".
      if (value === '' && key in EXPECTED) throw new v.BadValue(`${key} has no value: expected ${EXPECTED[key]}`);
      if (section.kind === 'interface') setInterface(key, value, l.line);
      else setPeer(section.peer, key, value, l.line);
      if (first === undefined) lines[key] = l.line;
    } catch (err) {
      if (!(err instanceof v.BadValue)) throw err;
      issues.error(l.line, err.message);
      // A bad value still counts as given: a later repeat is reported, and a peer with a bad key is not "missing" one.
      if (first === undefined) lines[key] = l.line;
    }
  }

  const peers = finishPeers(drafts, issues, iface.privateKey);
  checkExtensions(extensions, issues);
  issues.throwIfAny();
  return { interface: iface, peers, extensions, warnings: issues.warnings, source: { file, text } };
}

function finishPeers(drafts: PeerDraft[], issues: IssueList, privateKey: Uint8Array | null): PeerConfig[] {
  const own = privateKey !== null && !isZeroKey(privateKey) ? publicKeyFromPrivate(privateKey) : null;
  const peers: PeerConfig[] = [];
  for (const d of drafts) {
    if (d.lines.PublicKey === undefined) {
      issues.error(d.line, '[Peer] has no PublicKey: expected PublicKey = <base64 key> in every [Peer]');
      continue;
    }
    if (d.publicKey === null) continue; // its bad value was reported
    const keyLine = d.lines.PublicKey;
    const twin = peers.find((p) => sameKey(p.publicKey, d.publicKey as Uint8Array));
    if (twin !== undefined) {
      issues.error(keyLine, `PublicKey repeats the [Peer] at line ${twin.line}: expected each peer once`);
      continue;
    }
    if (own !== null && sameKey(own, d.publicKey)) {
      issues.warn(keyLine, "PublicKey is this interface's own public key: the device ignores such a peer, as WireGuard does");
    }
    peers.push({ ...d, publicKey: d.publicKey });
  }
  return peers;
}
