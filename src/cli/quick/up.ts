/**
 * `ferry up` (wg-quick's cmd_up): refuse an existing interface, then start ferryd, run
 * PreUp, apply the file (setconf), add the addresses, set the MTU and bring the link up,
 * set DNS, add the routes, run PostUp. From the moment ferryd is started, a failure (or
 * SIGINT/SIGTERM) runs del_if — which removes the interface and with it the daemon, the
 * full tunnel's rules, DNS and firewall rules set so far — and ends with the failing
 * step's status, as wg-quick's `trap 'del_if; exit' INT TERM EXIT` does.
 */
import { isConfigError } from '../../config/issues.js';
import { resolveEndpoints } from '../../config/resolve.js';
import { toUapiSet } from '../../config/uapi-set.js';
import { setDns } from './dns.js';
import { delIf } from './down.js';
import { ferrydCommand } from './ferryd-command.js';
import { executeHooks } from './hooks.js';
import { QuickExit } from './io.js';
import { setMtuUp } from './mtu.js';
import { addRoute, routeOrder } from './routes.js';
import { extensionRoutes } from '../../config/extensions.js';
import { setVxlanRouteMtus } from './vxlan-routes.js';
import { enableLbForwarding } from './lb-forwarding.js';
import type { Session } from './session.js';
import { type IpPrefix, formatPrefix } from '../../text/prefix.js';

/** The variable that tells ferryd which file to re-read on SIGHUP. */
const CONFIG_FILE_ENV = 'FERRY_CONFIG_FILE';

/** add_if: start the daemon, which returns once the interface and its UAPI socket exist. */
async function addIf(s: Session): Promise<void> {
  const { argv, display } = ferrydCommand(s.ifname, s.env);
  // WG_PROCESS_FOREGROUND=1 would keep ferryd in the foreground and `up` would never return.
  await s.cmd(argv, { display, env: { [CONFIG_FILE_ENV]: s.path, WG_PROCESS_FOREGROUND: undefined } });
}

/** set_config: the stripped file through UAPI, with setconf's meaning (the file is the whole device). */
async function setConfig(s: Session): Promise<void> {
  s.trace(`wg setconf ${s.ifname} /dev/fd/63`);
  try {
    await resolveEndpoints(s.config);
  } catch (err) {
    if (!isConfigError(err)) throw err;
    s.io.stderr.write(`${err.message}\nConfiguration parsing error\n`);
    throw new QuickExit(1, 'endpoints could not be resolved');
  }
  const change = toUapiSet(s.config, { replacePeers: true });
  await s.wg(null, () => s.device.set(s.ifname, change));
}

async function addAddr(s: Session, address: IpPrefix): Promise<void> {
  const proto = address.family === 6 ? '-6' : '-4';
  await s.cmd(['ip', proto, 'address', 'add', formatPrefix(address), 'dev', s.ifname]);
}

interface UpOptions {
  /** Undo on SIGINT/SIGTERM as wg-quick's trap does (off in tests that run in-process). */
  trapSignals?: boolean;
}

export async function cmdUp(s: Session, options: UpOptions = {}): Promise<void> {
  const exists = await s.query(['ip', 'link', 'show', 'dev', s.ifname]);
  if (exists.stdout.trim() !== '') s.die(`\`${s.ifname}' already exists`);

  let undone: Promise<void> | null = null;
  const undo = (): Promise<void> => {
    undone ??= delIf(s).catch(() => undefined); // under `set -e` the trap stops at its first failure too
    return undone;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    void undo().then(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  if (options.trapSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  try {
    const i = s.config.interface;
    await (s.addInterface ?? addIf)(s);
    await executeHooks(s, i.preUp);
    await setConfig(s);
    for (const address of i.addresses) await addAddr(s, address);
    await setMtuUp(s);
    await setDns(s);
    for (const prefix of routeOrder(await s.state())) await addRoute(s, prefix);
    for (const prefix of extensionRoutes(s.config.extensions)) await addRoute(s, prefix);
    await setVxlanRouteMtus(s);
    await enableLbForwarding(s);
    await executeHooks(s, i.postUp);
  } catch (err) {
    await undo();
    throw err;
  } finally {
    if (options.trapSignals) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}
