/**
 * SIGHUP: re-read the config file and sync the device to it. `ferry up` starts ferryd with
 * FERRY_CONFIG_FILE; on SIGHUP ferryd parses that file with the config parser (the
 * wg-quick keys — Address, DNS, MTU, Table, hooks — and [Ferry…] sections play no part:
 * this is `wg syncconf IF <(ferry strip IF)`), resolves its endpoints, and applies the
 * syncconf difference through the same UAPI backend the socket uses: peers missing from
 * the file are removed, the others updated in place, so unchanged peers keep their
 * sessions. A file with any error is reported with file:line and nothing of it is applied.
 * Reloads never overlap: a SIGHUP during a reload runs one more after it (config-reload.ts).
 */
import { loadConfig } from '../config/config-file.js';
import type { WgQuickConfig } from '../config/model.js';
import { formatIssue, isConfigError } from '../config/issues.js';
import { resolveEndpoints } from '../config/resolve.js';
import { isEmptyChange, syncChange } from '../config/sync.js';
import type { UapiBackend } from '../control/uapi-server.js';
import type { Logger } from './logger.js';
import type { WgDaemon } from './wg-daemon.js';

export const CONFIG_FILE_ENV = 'FERRY_CONFIG_FILE';

interface ReloadResult {
  ok: boolean;
  /** Peers removed, added or updated; 0 when the device already matched. */
  peersChanged: number;
  /** Why nothing was changed (file:line messages); empty when ok. */
  errors: string[];
}

/**
 * Applies a config's [Ferry…] sections to the planes beside WireGuard (WgDaemon.reloadPlanes);
 * throws, having changed nothing, to refuse the file.
 */
type PlanesReload = (config: WgQuickConfig) => void;

/** Reads `file` and syncs the device behind `backend` (and the other planes) to it; logs what happened. */
export async function reloadConfig(file: string, backend: UapiBackend, logger: Logger, planes?: PlanesReload): Promise<ReloadResult> {
  let change;
  try {
    const { config } = loadConfig(file);
    for (const w of config.warnings) logger.warn({ file: w.file, line: w.line }, `reload: ${formatIssue(w)}`);
    await resolveEndpoints(config);
    change = syncChange(config, backend.get());
    planes?.(config);
  } catch (err) {
    if (isConfigError(err)) {
      for (const e of err.errors) logger.error({ file: e.file, line: e.line }, `reload: ${formatIssue(e)}`);
      logger.error({ file }, 'reload: the config file has errors; nothing was changed');
      return { ok: false, peersChanged: 0, errors: err.errors.map(formatIssue) };
    }
    logger.error({ file, err: (err as Error).message }, 'reload: could not read the config file; nothing was changed');
    return { ok: false, peersChanged: 0, errors: [`${file}: ${(err as Error).message}`] };
  }
  if (isEmptyChange(change)) {
    logger.info({ file }, 'reload: the device already matches the config file');
    return { ok: true, peersChanged: 0, errors: [] };
  }
  try {
    await backend.set(change);
  } catch (err) {
    logger.error({ file, err: (err as Error).message }, 'reload: the device refused the change; nothing was changed');
    return { ok: false, peersChanged: 0, errors: [`the device refused the change: ${(err as Error).message}`] };
  }
  const removed = change.peers.filter((p) => p.remove).length;
  logger.info({ file, peersChanged: change.peers.length, removed }, 'reload: applied the config file');
  return { ok: true, peersChanged: change.peers.length, errors: [] };
}

interface ReloadHooks {
  /** Before each reload starts (systemd: RELOADING=1). */
  before?(): void;
  /** After each reload, with its result (systemd: READY=1). */
  after?(result: ReloadResult): void;
}

/**
 * One config file reloaded into one backend, never two reloads at once: a request during
 * a reload gets the result of one more reload that starts after it (so an edit made just
 * before the request is seen); any number of such requests share that one.
 */
export class ConfigReloader {
  private running: Promise<ReloadResult> | null = null;
  private next: Promise<ReloadResult> | null = null;

  constructor(
    readonly file: string,
    private readonly backend: UapiBackend,
    private readonly logger: Logger,
    private readonly hooks: ReloadHooks = {},
    private readonly planes?: PlanesReload,
  ) {}

  reload(): Promise<ReloadResult> {
    if (this.running === null) {
      this.running = this.once().finally(() => (this.running = null));
      return this.running;
    }
    this.next ??= this.running.then(() => {
      this.next = null;
      return this.reload();
    });
    return this.next;
  }

  private async once(): Promise<ReloadResult> {
    this.hooks.before?.();
    this.logger.info({ file: this.file }, 'reloading the config file');
    const result = await reloadConfig(this.file, this.backend, this.logger, this.planes);
    this.hooks.after?.(result);
    return result;
  }
}

/**
 * Handles SIGHUP for a daemon: reloads `env.FERRY_CONFIG_FILE` when set, otherwise says
 * why nothing happens. Returns the function a signal runs (tests call it directly).
 */
export function installReload(backend: UapiBackend, logger: Logger, env: NodeJS.ProcessEnv = process.env, onSignal = true, planes?: PlanesReload): () => Promise<void> {
  const file = env[CONFIG_FILE_ENV];
  const reloader = file === undefined || file === '' ? null : new ConfigReloader(file, backend, logger, {}, planes);
  const reload = async (): Promise<void> => {
    if (reloader === null) {
      logger.info(`SIGHUP ignored: no ${CONFIG_FILE_ENV} (ferryd was not started by ferry up); use ferry syncconf`);
      return;
    }
    await reloader.reload();
  };
  if (onSignal) process.on('SIGHUP', () => void reload());
  return reload;
}

/** SIGHUP reload for a running WgDaemon, through a backend like its UAPI socket's (same device, same port opener). */
export function installDaemonReload(daemon: WgDaemon, logger: Logger, env: NodeJS.ProcessEnv = process.env): () => Promise<void> {
  return installReload(daemon.backend, logger, env, true, (config) => daemon.reloadPlanes(config));
}
