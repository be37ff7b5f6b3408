/**
 * `ferry set IFNAME …`: set.c, wg's argument grammar (args.ts) sent as one UAPI `set`.
 */
import { readSetArgs } from './args.js';
import type { CliIo } from './cli-io.js';
import { deviceName } from './device.js';
import { strerror } from './errno.js';
import { IpcError, setDevice } from './ipc.js';
import { usageLine } from './usage.js';

export async function setMain(io: CliIo, args: readonly string[]): Promise<number> {
  if (args.length < 2) {
    io.err(`${usageLine(io.prog, 'set')}\n`);
    return 1;
  }
  const dev = await readSetArgs(io, args.slice(1));
  if (dev === null) return 1;
  dev.name = deviceName(args[0]);
  try {
    await setDevice(io.socketDir, dev);
  } catch (err) {
    if (!(err instanceof IpcError)) throw err;
    io.err(`Unable to modify interface: ${strerror(err.errno)}\n`);
    return 1;
  }
  return 0;
}
