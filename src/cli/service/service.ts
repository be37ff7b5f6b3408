/**
 * ferryd as a service (`ferryd --up CONFIG|IFNAME`, the systemd unit; `ferryd --sidecar`):
 * in the foreground, it does what `ferry up` does in this process, then tells systemd
 * READY=1 with a STATUS= summary it keeps current and WATCHDOG=1 from the event loop,
 * serves the opt-in HTTP port, and reloads its config file on SIGHUP or `ferry reload`
 * (syncconf: unchanged peers keep their sessions). On SIGTERM or SIGINT it turns not ready,
 * does what `ferry down` does and exits 0; when its interface is deleted from outside (the
 * unit's ExecStop=ferry down) it exits 0 too.
 */
import { loadConfig } from '../../config/config-file.js';
import { isConfigError } from '../../config/issues.js';
import type { ProbeHttpServer } from '../../control/http-server.js';
import { wgInterfaceHealth, type InterfaceHealth } from '../../daemon/interface-health.js';
import type { Logger } from '../../daemon/logger.js';
import { ConfigReloader } from '../../daemon/reload.js';
import { ServiceNotifier } from '../../daemon/service-notifier.js';
import type { WgDaemon } from '../../daemon/wg-daemon.js';
import { httpAddressFor } from './http-address.js';
import { downInProcess, upInProcess, type InProcessOptions } from './in-process.js';
import { listenProbes, ServiceProbes } from './probes.js';

export interface ServiceOptions {
  /** CONFIG_FILE or INTERFACE, as `ferry up` takes it. */
  nameOrPath: string;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  /** For tests: how the interface is started. */
  start?: InProcessOptions['start'];
}

/** Resolves with the first stop signal; the handlers stay, so later signals are ignored. */
function stopSignal(): { promise: Promise<NodeJS.Signals>; dispose(): void } {
  let resolve!: (s: NodeJS.Signals) => void;
  const promise = new Promise<NodeJS.Signals>((r) => (resolve = r));
  const on = (s: NodeJS.Signals) => resolve(s);
  process.on('SIGTERM', on);
  process.on('SIGINT', on);
  return {
    promise,
    dispose() {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
    },
  };
}

/** Sets up reload (SIGHUP and the control socket's "reload" op) and the notifications around it; returns its removal. */
export function installServiceReload(daemon: WgDaemon, path: string, health: InterfaceHealth, notifier: ServiceNotifier | null, logger: Logger, onApplied?: () => void): () => void {
  const reloader = new ConfigReloader(
    path,
    daemon.backend,
    logger,
    {
      before: () => notifier?.reloading(),
      after: (result) => {
        if (result.ok) onApplied?.();
        notifier?.ready(health.summary());
      },
    },
    (config) => daemon.reloadPlanes(config),
  );
  daemon.control.handle('reload', () => reloader.reload());
  const onHup = () => void reloader.reload();
  process.on('SIGHUP', onHup);
  return () => process.off('SIGHUP', onHup);
}

export async function runService(options: ServiceOptions): Promise<number> {
  const { logger, nameOrPath } = options;
  const env = options.env ?? process.env;
  const notifier = ServiceNotifier.fromEnv(logger, env);
  const signal = stopSignal();
  const probes = new ServiceProbes();
  let http: ProbeHttpServer | null = null;
  try {
    // The file is read once here for [Ferry] (the HTTP port), so a bad file fails before anything is made.
    let address;
    try {
      address = httpAddressFor(env, loadConfig(nameOrPath).config);
    } catch (err) {
      if (!isConfigError(err)) throw err;
      process.stderr.write(`${err.message}\n`);
      notifier?.send(`STATUS=config error: ${err.errors[0]?.message ?? err.message}`);
      return 1;
    }
    if ('error' in address) {
      process.stderr.write(`ferryd: ${address.error}\n`);
      return 1;
    }
    try {
      http = await listenProbes(address.http, probes, logger);
    } catch (err) {
      process.stderr.write(`ferryd: cannot serve HTTP on ${address.http?.host}:${address.http?.port}: ${(err as Error).message}\n`);
      return 1;
    }

    const up = await upInProcess(nameOrPath, { logger, start: options.start });
    if (!up.ok) {
      notifier?.send(`STATUS=ferry up failed with status ${up.status}`);
      return up.status;
    }
    const { daemon } = up;
    let lastGood = up.loaded;
    const path = lastGood.path;
    const health = wgInterfaceHealth(daemon);
    probes.running(health);
    const removeReload = installServiceReload(daemon, path, health, notifier, logger, () => {
      try {
        lastGood = loadConfig(path); // what down falls back to
      } catch {
        // changed again since; keep the previous one
      }
    });
    notifier?.ready(health.summary());
    notifier?.startWatchdog();
    notifier?.startStatus(() => health.summary(), (fn) => health.onChange(fn));
    logger.info({ ifname: daemon.ifname, config: path }, 'interface up and configured');

    const first = await Promise.race([signal.promise.then((s) => ({ signal: s })), daemon.exited.then((reason) => ({ exited: reason }))]);
    probes.phase = 'stopping';
    removeReload();
    let status = 0;
    if ('signal' in first) {
      notifier?.stopping(`stopping (${first.signal})`);
      logger.info({ signal: first.signal }, 'stopping: ferry down');
      status = await downInProcess(lastGood, daemon, { logger });
    } else {
      notifier?.stopping(`stopped: ${first.exited}`);
      logger.info({ reason: first.exited }, 'the interface is gone; exiting');
    }
    await daemon.exited;
    return status;
  } finally {
    notifier?.close();
    await http?.close();
    signal.dispose();
  }
}
