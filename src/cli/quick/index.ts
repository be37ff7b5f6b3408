/**
 * The wg-quick verbs of `ferry`: up, down, save, strip, with wg-quick's arguments
 * (CONFIG_FILE | INTERFACE), output ("[#] COMMAND" on stderr for every step) and exit
 * statuses. An INTERFACE is looked up as /etc/ferry/INTERFACE.conf, then
 * /etc/wireguard/INTERFACE.conf. See docs/cli.md.
 */
import { realpathSync } from 'node:fs';
import { loadConfig, type LoadedConfig, type LookupOptions } from '../../config/config-file.js';
import { formatIssue, isConfigError } from '../../config/issues.js';
import { UapiDevice, type QuickDevice } from './device.js';
import { cmdDown } from './down.js';
import { SystemHost, type Host } from './host.js';
import { QuickExit, type QuickIo } from './io.js';
import { cmdSave } from './save.js';
import { PROGRAM, Session } from './session.js';
import { cmdStrip } from './strip.js';
import { cmdUp } from './up.js';
import { quickUsage, quickVerbHelp, type QuickVerb } from './usage.js';

export { QUICK_VERBS, quickVerbHelp, type QuickVerb } from './usage.js';
export type { QuickIo } from './io.js';

/** What a verb may use of the outside; tests replace the host and the device. */
interface QuickDeps {
  host?: Host;
  device?: QuickDevice;
  env?: NodeJS.ProcessEnv;
  lookup?: LookupOptions;
  /** Undo `up` on SIGINT/SIGTERM (default true; in-process tests turn it off). */
  trapSignals?: boolean;
  /** Makes the interface in this process instead of starting ferryd (ferryd --up, the sidecar). */
  addInterface?: (s: Session) => Promise<void>;
  /** The config, already read (ferryd's down falls back to the one it came up with when the file went bad). */
  loaded?: LoadedConfig;
}

/** parse_options: find and read the file; print its warnings as wg-quick does. */
function load(nameOrPath: string, io: QuickIo, lookup: LookupOptions | undefined): LoadedConfig {
  const loaded = loadConfig(nameOrPath, lookup);
  let path = loaded.path;
  try {
    path = realpathSync(loaded.path); // wg-quick's readlink -f: save writes through a symlink
  } catch {
    // keep the path as given
  }
  for (const w of loaded.config.warnings) {
    if (w.line === 0 && w.message.startsWith('is world accessible')) io.stderr.write(`Warning: \`${path}' is world accessible\n`);
    else io.stderr.write(`Warning: ${formatIssue(w)}\n`);
  }
  return { ...loaded, path };
}

/** Runs one wg-quick verb; resolves with the exit status. */
export async function runQuickVerb(verb: QuickVerb, args: string[], io: QuickIo, deps: QuickDeps = {}): Promise<number> {
  if (args.length === 1 && (args[0] === '--help' || args[0] === '-h')) {
    io.stdout.write(quickVerbHelp(PROGRAM, verb));
    return 0;
  }
  if (args.length !== 1) {
    io.stderr.write(quickUsage(PROGRAM));
    return 1;
  }
  try {
    const loaded = deps.loaded ?? load(args[0], io, deps.lookup);
    const session = new Session({
      io,
      host: deps.host ?? new SystemHost(io),
      device: deps.device ?? new UapiDevice(),
      ifname: loaded.interfaceName,
      path: loaded.path,
      config: loaded.config,
      env: deps.env,
      addInterface: deps.addInterface,
    });
    switch (verb) {
      case 'up':
        await cmdUp(session, { trapSignals: deps.trapSignals ?? true });
        break;
      case 'down':
        await cmdDown(session);
        break;
      case 'save':
        await cmdSave(session);
        break;
      case 'strip':
        cmdStrip(session);
        break;
    }
    return 0;
  } catch (err) {
    if (err instanceof QuickExit) return err.status;
    if (isConfigError(err)) {
      io.stderr.write(`${err.message}\n`);
      return 1;
    }
    io.stderr.write(`${PROGRAM}: ${(err as Error).message}\n`);
    return 1;
  }
}
