/**
 * `ferryd --sidecar` (or FERRY_SIDECAR=1): ferryd in a container beside an application,
 * in the pod's network namespace. Configured by the environment and mounted files:
 * FERRY_CONFIG names the config file (the interface is named after it, as with wg-quick;
 * keys come from PrivateKeyFile, a mounted Secret), FERRY_HTTP the probe port. It makes
 * /dev/net/tun when the runtime did not (needs CAP_MKNOD), then runs as a service:
 * `ferry up` in the namespace, ready when the tunnel is, `ferry down` and exit 0 on SIGTERM.
 */
import type { Logger } from '../../daemon/logger.js';
import { ensureTunNode, TUN_NODE } from '../../io/tun-node.js';
import { runService, type ServiceOptions } from './service.js';

const SIDECAR_ENV = 'FERRY_SIDECAR';
const CONFIG_ENV = 'FERRY_CONFIG';

export function sidecarRequested(env: NodeJS.ProcessEnv): boolean {
  return ['1', 'true', 'yes'].includes((env[SIDECAR_ENV] ?? '').toLowerCase());
}

export async function runSidecar(logger: Logger, env: NodeJS.ProcessEnv = process.env, start?: ServiceOptions['start']): Promise<number> {
  const config = (env[CONFIG_ENV] ?? '').trim();
  if (config === '') {
    process.stderr.write(`ferryd: the sidecar needs ${CONFIG_ENV}, the path of its config file (e.g. /etc/ferry/wg0.conf, mounted)\n`);
    return 2;
  }
  try {
    if (ensureTunNode() === 'created') logger.info({ path: TUN_NODE }, `created ${TUN_NODE} (character device 10:200)`);
  } catch (err) {
    const e = err as Error & { code?: string };
    const hint = e.code === 'EPERM' ? ': give the container CAP_MKNOD, or mount the host\'s /dev/net/tun' : '';
    process.stderr.write(`ferryd: ${TUN_NODE} is missing and cannot be made (${e.message})${hint}\n`);
    return 1;
  }
  return runService({ nameOrPath: config, logger, env, start });
}
