/**
 * `ferry show { <interface> | all | interfaces } [FIELD | dump]`, show.c's show_main:
 * the same arguments, output, messages and exit codes as `wg show`.
 */
import { strerror } from '../../text/errno.js';
import { deviceName, getDevice, listDevices } from '../../uapi/client.js';
import { IpcError } from '../../uapi/errors.js';
import type { Device } from '../../uapi/model.js';
import { colorMode } from './format.js';
import type { CliIo } from './cli-io.js';
import { prettyPrint, uglyPrint } from './show-print.js';
import { usageLine } from './usage.js';

function errnoOf(err: unknown): number {
  if (err instanceof IpcError) return err.errno;
  throw err;
}

function invalidParameter(io: CliIo, param: string): void {
  io.err(`Invalid parameter: \`${param}'\n`);
  io.err(`${usageLine(io.prog, 'show')}\n`);
}

function pretty(io: CliIo, name: string, dev: Device): string {
  return prettyPrint(deviceName(name), dev, { env: io.env, color: colorMode(io.env, io.stdoutIsTTY), nowSec: BigInt(Math.floor(Date.now() / 1000)) });
}

/** The live interfaces, or null after wg's message. */
async function interfaceNames(io: CliIo): Promise<string[] | null> {
  try {
    return await listDevices(io.socketDir);
  } catch (err) {
    io.err(`Unable to list interfaces: ${strerror(errnoOf(err))}\n`);
    return null;
  }
}

/** args: the words after "show". */
export async function showMain(io: CliIo, args: readonly string[]): Promise<number> {
  if (args.length > 2) {
    io.err(`${usageLine(io.prog, 'show')}\n`);
    return 1;
  }
  const target = args[0];
  if (target === undefined || target === 'all') {
    const names = await interfaceNames(io);
    if (names === null) return 1;
    let ret = names.length > 0 ? 1 : 0;
    for (let i = 0; i < names.length; i++) {
      let dev;
      try {
        dev = await getDevice(io.socketDir, names[i]);
      } catch (err) {
        io.err(`Unable to access interface ${names[i]}: ${strerror(errnoOf(err))}\n`);
        continue;
      }
      if (args.length === 2) {
        const text = uglyPrint(deviceName(names[i]), dev, args[1], true);
        if (text === null) {
          invalidParameter(io, args[1]);
          ret = 1;
          break;
        }
        io.out(text);
      } else {
        io.out(pretty(io, names[i], dev));
        if (i + 1 < names.length) io.out('\n');
      }
      ret = 0;
    }
    return ret;
  }
  if (target === 'interfaces') {
    if (args.length > 1) {
      io.err(`${usageLine(io.prog, 'show')}\n`);
      return 1;
    }
    const names = await interfaceNames(io);
    if (names === null) return 1;
    if (names.length > 0) io.out(`${names.join(' ')}\n`);
    return 0;
  }
  if (args.length === 1 && (target === '-h' || target === '--help' || target === 'help')) {
    io.err(`${usageLine(io.prog, 'show')}\n`);
    return 0;
  }
  let dev;
  try {
    dev = await getDevice(io.socketDir, target);
  } catch (err) {
    io.err(`Unable to access interface: ${strerror(errnoOf(err))}\n`);
    return 1;
  }
  if (args.length === 2) {
    const text = uglyPrint(deviceName(target), dev, args[1], false);
    if (text === null) {
      invalidParameter(io, args[1]);
      return 1;
    }
    io.out(text);
    return 0;
  }
  io.out(pretty(io, target, dev));
  return 0;
}
