/**
 * `ferry up` and `ferry down` run inside ferryd (ferryd --up, the sidecar): the same
 * wg-quick sequence as src/cli/quick — PreUp, setconf, addresses, MTU, DNS, routes,
 * firewall, PostUp; PreDown, SaveConfig, delete, PostDown — except that the interface is
 * this process's own WgDaemon instead of a ferryd started as a child. The "[#] …" trace
 * goes to stderr as wg-quick's does.
 */
import { loadConfig, type LoadedConfig } from '../../config/config-file.js';
import { formatIssue, isConfigError } from '../../config/issues.js';
import { runQuickVerb, type QuickIo } from '../quick/index.js';
import { QuickExit } from '../quick/io.js';
import type { Session } from '../quick/session.js';
import type { Logger } from '../../daemon/logger.js';
import { WgDaemon } from '../../daemon/wg-daemon.js';

export interface InProcessOptions {
  logger: Logger;
  io?: QuickIo;
  /** Starts the interface with its config file (tests may pass options through); default WgDaemon.start. */
  start?: (ifname: string, configFile: string) => Promise<WgDaemon>;
}

type UpResult = { ok: true; daemon: WgDaemon; loaded: LoadedConfig } | { ok: false; status: number };

const processIo = (): QuickIo => ({ stdout: process.stdout, stderr: process.stderr });

/** Brings the interface of CONFIG_FILE|INTERFACE up in this process; on failure everything done is undone. */
export async function upInProcess(nameOrPath: string, options: InProcessOptions): Promise<UpResult> {
  const io = options.io ?? processIo();
  const start = options.start ?? ((ifname: string, configFile: string) => WgDaemon.start({ ifname, logger: options.logger, configFile }));
  let daemon: WgDaemon | undefined;
  let loaded: LoadedConfig | undefined;
  const addInterface = async (s: Session): Promise<void> => {
    s.trace(`ferryd --up ${s.ifname} (interface made in this process)`);
    loaded = { path: s.path, interfaceName: s.ifname, config: s.config };
    try {
      daemon = await start(s.ifname, s.path);
    } catch (err) {
      s.io.stderr.write(`ferryd: cannot create interface ${s.ifname}: ${(err as Error).message}\n`);
      throw new QuickExit(1, 'cannot create the interface');
    }
  };
  const status = await runQuickVerb('up', [nameOrPath], io, { addInterface, trapSignals: false });
  if (status === 0 && daemon !== undefined && loaded !== undefined) return { ok: true, daemon, loaded };
  // up deleted the link on its way out; the daemon may already be gone with it.
  await daemon?.shutdown('ferry up failed');
  return { ok: false, status: status === 0 ? 1 : status };
}

/**
 * `ferry down` for the interface this process runs: its hooks, SaveConfig, the link (and
 * with it the daemon), DNS and firewall. Like wg-quick it reads the file again; if the file
 * no longer parses, it goes down with `lastGood`, the config it came up with (or last
 * reloaded), so a bad edit never keeps a service from stopping cleanly. Whatever happens,
 * the daemon is stopped after.
 */
export async function downInProcess(lastGood: LoadedConfig, daemon: WgDaemon, options: { io?: QuickIo; logger?: Logger } = {}): Promise<number> {
  let loaded: LoadedConfig | undefined;
  try {
    loaded = loadConfig(lastGood.path);
  } catch (err) {
    if (!isConfigError(err)) throw err;
    options.logger?.warn({ file: lastGood.path, errors: err.errors.map(formatIssue) }, 'the config file has errors now; going down with the one last applied');
    loaded = lastGood;
  }
  const status = await runQuickVerb('down', [lastGood.path], options.io ?? processIo(), { trapSignals: false, loaded });
  await daemon.shutdown(status === 0 ? 'ferry down' : 'ferry down failed');
  return status;
}
