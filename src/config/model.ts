/**
 * A parsed wg-quick configuration file: what wg(8) applies ([Interface] keys PrivateKey,
 * ListenPort, FwMark and the [Peer] sections), what wg-quick does around it (Address, DNS,
 * MTU, Table, hooks, SaveConfig), and ferry's extension sections kept raw for later.
 *
 * `null` means "not given": for setconf that is the device default (no key, port 0, mark 0).
 * Key material lives in Uint8Arrays and never in messages.
 */
import type { Endpoint } from '../text/endpoint.js';
import type { ConfigIssue } from './issues.js';
import type { IpPrefix } from '../text/prefix.js';

/** Line (1-based) of each key's first occurrence in its section. */
type KeyLines = Partial<Record<string, number>>;

export interface InterfaceConfig {
  /** Line of the first [Interface] header; 0 when the file has none (wg allows that). */
  line: number;
  /** From PrivateKey, or read from PrivateKeyFile. */
  privateKey: Uint8Array | null;
  /** The absolute path PrivateKeyFile named, when the key came from a file. */
  privateKeyFile: string | null;
  listenPort: number | null;
  /** 0 is "off". */
  fwmark: number | null;
  /** Interface addresses with their host part kept (10.0.0.1/24); a bare address is /32 or /128. */
  addresses: IpPrefix[];
  /** DNS servers (IP addresses), in order. */
  dns: string[];
  /** DNS search domains, in order (wg-quick: DNS entries that are not IP addresses). */
  dnsSearch: string[];
  mtu: number | null;
  /** "off", "auto", a table number or a table name, as written; null is auto. */
  table: string | null;
  preUp: string[];
  postUp: string[];
  preDown: string[];
  postDown: string[];
  saveConfig: boolean;
  /** FerryOffload: TUN offloads (docs/offloads.md); null when not given (on). */
  offload: boolean | null;
  lines: KeyLines;
}

/** An Endpoint as written: an IP literal is ready at once; a hostname waits for resolveEndpoints(). */
export interface EndpointSpec {
  /** The host: an IP address (no brackets, no scope) or a DNS name. */
  host: string;
  port: number;
  /** An IPv6 scope as written after '%' (an index or an interface name). */
  scope: string | null;
  /** The numeric endpoint: set for IP literals, and by resolveEndpoints() for names. */
  address: Endpoint | null;
}

export interface PeerConfig {
  /** Line of this peer's [Peer] header. */
  line: number;
  publicKey: Uint8Array;
  presharedKey: Uint8Array | null;
  presharedKeyFile: string | null;
  /** In file order, host part kept as written (wg sends it so; the device masks it). */
  allowedIps: IpPrefix[];
  endpoint: EndpointSpec | null;
  /** Seconds; 0 is "off". */
  persistentKeepalive: number | null;
  lines: KeyLines;
}

export interface ExtensionEntry {
  key: string;
  value: string;
  line: number;
}

/** A [Ferry…] section, kept as written for the features that will read it. */
export interface ExtensionSection {
  name: string;
  line: number;
  entries: ExtensionEntry[];
}

export interface WgQuickConfig {
  interface: InterfaceConfig;
  peers: PeerConfig[];
  extensions: ExtensionSection[];
  /** What wg or wg-quick would only warn about (host bits in AllowedIPs, own public key as a peer…). */
  warnings: ConfigIssue[];
  source: { file: string; text: string };
}

export function emptyInterface(): InterfaceConfig {
  return {
    line: 0,
    privateKey: null,
    privateKeyFile: null,
    listenPort: null,
    fwmark: null,
    addresses: [],
    dns: [],
    dnsSearch: [],
    mtu: null,
    table: null,
    preUp: [],
    postUp: [],
    preDown: [],
    postDown: [],
    saveConfig: false,
    offload: null,
    lines: {},
  };
}
