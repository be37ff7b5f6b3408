/**
 * wg(8)'s configuration file reader (config.c config_read_init/line/finish), the one
 * `setconf`, `addconf` and `syncconf` use: everything after '#' is a comment, every
 * whitespace character is removed from a line, section and key names are
 * case-insensitive, an empty value is an unrecognized line, and only the keys wg knows
 * are accepted (wg-quick's Address, DNS, … are "Line unrecognized"; `ferry strip`
 * removes them, as `wg-quick strip` does).
 *
 * Endpoints are resolved while reading, as wg does, so reading is async.
 */
import type { CliIo } from './cli-io.js';
import { newDevice, newPeer, type Device, type Peer } from '../../uapi/model.js';
import { parseAllowedIps, parseEndpoint, parseFwmark, parseKey, parsePersistentKeepalive, parsePort } from './values.js';

/** Reads a whole file; the result is what wg would send, or null after its messages. */
export type ConfigReader = (io: CliIo, text: string, file: string, append: boolean) => Promise<Device | null>;

/** get_value(): the value after "Key=" (case-insensitive), only when it is not empty. */
function valueOf(line: string, key: string): string | null {
  if (key.length >= line.length) return null;
  if (line.slice(0, key.length).toLowerCase() !== key.toLowerCase()) return null;
  return line.slice(key.length);
}

class WgConfigParser {
  readonly device: Device;
  private section: 'none' | 'interface' | 'peer' = 'none';
  private peer: Peer | null = null;
  private readonly hasPublicKey = new Set<Peer>();

  /** config_read_init(): setconf replaces everything (zero key, port 0, no mark, no peers) unless appending. */
  constructor(
    private readonly io: CliIo,
    append: boolean,
  ) {
    this.device = newDevice();
    if (!append) {
      this.device.replacePeers = true;
      this.device.privateKey = new Uint8Array(32);
      this.device.fwmark = 0;
      this.device.listenPort = 0;
    }
  }

  /** config_read_line(): false after printing the reason. */
  async line(input: string): Promise<boolean> {
    let text = input.split('\0')[0];
    const hash = text.indexOf('#');
    if (hash >= 0) text = text.slice(0, hash);
    const line = text.replace(/[ \t\n\v\f\r]/g, '');
    if (line === '') return true;
    return this.processLine(line);
  }

  private async processLine(line: string): Promise<boolean> {
    const lower = line.toLowerCase();
    if (lower === '[interface]') {
      this.section = 'interface';
      return true;
    }
    if (lower === '[peer]') {
      this.peer = newPeer();
      this.peer.replaceAllowedIps = true;
      this.device.peers.push(this.peer);
      this.section = 'peer';
      return true;
    }
    const io = this.io;
    let v: string | null;
    if (this.section === 'interface') {
      if ((v = valueOf(line, 'ListenPort=')) !== null) {
        const port = parsePort(io, v);
        if (port === null) return false;
        this.device.listenPort = port;
        return true;
      }
      if ((v = valueOf(line, 'FwMark=')) !== null) {
        const mark = parseFwmark(io, v);
        if (mark === null) return false;
        this.device.fwmark = mark;
        return true;
      }
      if ((v = valueOf(line, 'PrivateKey=')) !== null) {
        const key = parseKey(io, v);
        if (key === null) return false;
        this.device.privateKey = key;
        return true;
      }
    } else if (this.section === 'peer' && this.peer !== null) {
      const peer = this.peer;
      if ((v = valueOf(line, 'Endpoint=')) !== null) {
        const ep = await parseEndpoint(io, v);
        if (ep === null) return false;
        peer.endpoint = ep;
        return true;
      }
      if ((v = valueOf(line, 'PublicKey=')) !== null) {
        const key = parseKey(io, v);
        if (key === null) return false;
        peer.publicKey = key;
        this.hasPublicKey.add(peer);
        return true;
      }
      if ((v = valueOf(line, 'AllowedIPs=')) !== null) return parseAllowedIps(io, peer, v);
      if ((v = valueOf(line, 'PersistentKeepalive=')) !== null) {
        const interval = parsePersistentKeepalive(io, v);
        if (interval === null) return false;
        peer.persistentKeepaliveInterval = interval;
        return true;
      }
      if ((v = valueOf(line, 'PresharedKey=')) !== null) {
        const key = parseKey(io, v);
        if (key === null) return false;
        peer.presharedKey = key;
        return true;
      }
    }
    io.err(`Line unrecognized: \`${line}'\n`);
    return false;
  }

  /** config_read_finish(): every peer needs a public key. */
  finish(): Device | null {
    for (const peer of this.device.peers) {
      if (!this.hasPublicKey.has(peer)) {
        this.io.err('A peer is missing a public key\n');
        return null;
      }
    }
    return this.device;
  }
}

/** Lines as getline() returns them: split after each '\n'. */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * setconf.c's loop: each line, "Configuration parsing error" on the first bad one,
 * "Invalid configuration" when the whole is incomplete.
 */
export const readWgConfig: ConfigReader = async (io, text, _file, append) => {
  const parser = new WgConfigParser(io, append);
  for (const line of splitLines(text)) {
    if (!(await parser.line(line))) {
      io.err('Configuration parsing error\n');
      return null;
    }
  }
  const device = parser.finish();
  if (device === null) io.err('Invalid configuration\n');
  return device;
};
