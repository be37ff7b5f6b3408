/**
 * `ferry save` and SaveConfig = true at `down` (wg-quick's save_config): the running
 * device (showconf) with the interface's live addresses, the DNS servers resolvconf holds
 * for it, the live MTU when the file sets one, and the file's Table, SaveConfig and hooks,
 * written to the config file through a temporary file (mode 0600) renamed over it, so a
 * crash leaves the old file or the new one, never half of one.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatSavedConfig, type SavedInterface } from '../../config/showconf.js';
import { liveDns } from './dns.js';
import type { Session } from './session.js';
import { type IpPrefix, parsePrefix } from '../../text/prefix.js';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The addresses in `ip -all -brief address show dev IF` ("wg0  UNKNOWN  10.0.0.1/24 fd00::1/64"). */
export function briefAddresses(ifname: string, output: string): IpPrefix[] {
  const m = new RegExp(`^${escapeRegExp(ifname)} + [A-Z]+ +(.+)$`, 'm').exec(output.replace(/\n+$/, ''));
  if (m === null) return [];
  const out: IpPrefix[] = [];
  for (const word of m[1].split(/\s+/)) {
    if (word === '') continue;
    try {
      out.push(parsePrefix(word));
    } catch {
      // not an address/prefix (ip prints "peer" forms for point-to-point): skipped
    }
  }
  return out;
}

async function savedInterface(s: Session): Promise<SavedInterface> {
  const i = s.config.interface;
  const addresses = briefAddresses(s.ifname, (await s.query(['ip', '-all', '-brief', 'address', 'show', 'dev', s.ifname])).stdout);
  const dns = await liveDns(s);
  let mtu: number | null = null;
  if (i.mtu !== null) {
    const m = /mtu ([0-9]+)/.exec((await s.query(['ip', 'link', 'show', 'dev', s.ifname])).stdout);
    if (m !== null) mtu = Number(m[1]);
  }
  return { addresses, dns: dns.servers, dnsSearch: dns.search, mtu, table: i.table, saveConfig: i.saveConfig, offload: i.offload, preUp: i.preUp, postUp: i.postUp, preDown: i.preDown, postDown: i.postDown };
}

/** Writes text to path through path.tmp: created 0600, synced, renamed over path. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  rmSync(tmp, { force: true });
  const oldUmask = process.umask(0o077);
  try {
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  } finally {
    process.umask(oldUmask);
  }
  try {
    const dir = openSync(dirname(path), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    // the rename is done; a directory that cannot be synced only weakens durability
  }
}

export async function saveConfig(s: Session): Promise<void> {
  const quick = await savedInterface(s);
  s.trace(`wg showconf ${s.ifname}`);
  const text = formatSavedConfig(await s.state(), quick, s.config.extensions);
  try {
    writeFileAtomic(s.path, text);
  } catch {
    s.die('Could not write configuration file');
  }
}

export async function cmdSave(s: Session): Promise<void> {
  if (!s.device.isWireGuard(s.ifname)) s.die(`\`${s.ifname}' is not a WireGuard interface`);
  await saveConfig(s);
}
