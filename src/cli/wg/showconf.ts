/**
 * `ferry showconf IFNAME`: showconf.c, the running configuration in the format
 * setconf reads, byte-identical to `wg showconf` (printed by config/showconf.ts).
 */
import { serializeConfig } from '../../config/showconf.js';
import { strerror } from '../../text/errno.js';
import { getDevice } from '../../uapi/client.js';
import { IpcError } from '../../uapi/errors.js';
import type { Device } from '../../uapi/model.js';
import type { CliIo } from './cli-io.js';
import { usageLine } from './usage.js';

export async function showconfMain(io: CliIo, args: readonly string[]): Promise<number> {
  if (args.length !== 1) {
    io.err(`${usageLine(io.prog, 'showconf')}\n`);
    return 1;
  }
  let dev: Device;
  try {
    dev = await getDevice(io.socketDir, args[0]);
  } catch (err) {
    if (!(err instanceof IpcError)) throw err;
    io.err(`Unable to access interface: ${strerror(err.errno)}\n`);
    return 1;
  }
  io.out(serializeConfig(dev));
  return 0;
}
