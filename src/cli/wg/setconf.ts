/**
 * `ferry setconf|addconf|syncconf IFNAME FILE`: setconf.c. setconf replaces the whole
 * configuration, addconf adds to it, syncconf replaces it but keeps the sessions of the
 * peers that stay (sync.ts). The file is read by a ConfigReader: wg's own grammar
 * (conf.ts) unless another is given.
 */
import { readFileSync } from 'node:fs';
import { fsPath, type CliIo } from './cli-io.js';
import { readWgConfig, type ConfigReader } from './conf.js';
import { Errno, strerror } from '../../text/errno.js';
import { deviceName, getDevice, setDevice } from '../../uapi/client.js';
import { IpcError } from '../../uapi/errors.js';
import type { Device } from '../../uapi/model.js';
import { syncPeers } from './sync.js';
import { usageLine } from './usage.js';

type ConfVerb = 'setconf' | 'addconf' | 'syncconf';

function errnoOf(err: unknown): number {
  if (err instanceof IpcError) return err.errno;
  throw err;
}

export async function setconfMain(io: CliIo, verb: ConfVerb, args: readonly string[], reader: ConfigReader = readWgConfig): Promise<number> {
  if (args.length !== 2) {
    io.err(`${usageLine(io.prog, verb)}\n`);
    return 1;
  }
  const [ifname, file] = args;
  let text: string;
  try {
    text = readFileSync(fsPath(file), 'latin1');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // fopen(dir, "r") succeeds and reading it yields no lines: an empty configuration.
    if (code === 'EISDIR') text = '';
    else {
      const n = (err as NodeJS.ErrnoException).errno;
      io.err(`fopen: ${strerror(typeof n === 'number' ? Math.abs(n) : Errno.EIO)}\n`);
      return 1;
    }
  }
  const dev: Device | null = await reader(io, text, file, verb === 'addconf');
  if (dev === null) return 1;
  const name = deviceName(ifname);
  if (verb === 'syncconf' && dev.peers.length > 0) {
    let runtime: Device;
    try {
      runtime = await getDevice(io.socketDir, name);
    } catch (err) {
      io.err(`Unable to retrieve current interface configuration: ${strerror(errnoOf(err))}\n`);
      return 1;
    }
    syncPeers(dev, runtime);
  }
  try {
    await setDevice(io.socketDir, name, dev);
  } catch (err) {
    io.err(`Unable to modify interface: ${strerror(errnoOf(err))}\n`);
    return 1;
  }
  return 0;
}
