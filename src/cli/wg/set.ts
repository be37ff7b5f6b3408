/**
 * `ferry set IFNAME …`: set.c, wg's argument grammar (args.ts) sent as one UAPI `set`.
 */
import { readSetArgs } from './args.js';
import type { CliIo } from './cli-io.js';
import { strerror } from '../../text/errno.js';
import { deviceName, setDevice } from '../../uapi/client.js';
import { IpcError } from '../../uapi/errors.js';
import { usageLine } from './usage.js';

export async function setMain(io: CliIo, args: readonly string[]): Promise<number> {
  if (args.length < 2) {
    io.err(`${usageLine(io.prog, 'set')}\n`);
    return 1;
  }
  const dev = await readSetArgs(io, args.slice(1));
  if (dev === null) return 1;
  try {
    await setDevice(io.socketDir, deviceName(args[0]), dev);
  } catch (err) {
    if (!(err instanceof IpcError)) throw err;
    io.err(`Unable to modify interface: ${strerror(err.errno)}\n`);
    return 1;
  }
  return 0;
}
