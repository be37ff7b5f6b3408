/**
 * `ferry down` (wg-quick's cmd_down) and del_if, which `up` also uses to undo itself. When
 * the daemon died and left its sockets behind, down cleans up after it (crashed.ts).
 */
import { cmdDownAfterCrash } from './crashed.js';
import { unsetDns } from './dns.js';
import { removeFirewall } from './firewall.js';
import { executeHooks } from './hooks.js';
import { QuickExit } from './io.js';
import { deleteDefaultRules } from './routes.js';
import { saveConfig } from './save.js';
import type { Session } from './session.js';

/** How long `down` waits for ferryd to leave, so `ferry down && ferry up` does not find its socket busy. */
const DAEMON_EXIT_WAIT_MS = 5000;

/** del_if: DNS and firewall if this run set them, the full tunnel's rules, the interface. */
export async function delIf(s: Session): Promise<void> {
  if (s.haveSetDns) await unsetDns(s);
  if (s.haveSetFirewall) await removeFirewall(s);
  await deleteDefaultRules(s);
  await s.cmd(['ip', 'link', 'delete', 'dev', s.ifname]);
}

/** `cmd || true`: the failure is printed by the command itself and otherwise ignored. */
async function ignoreFailure(step: Promise<void>): Promise<void> {
  try {
    await step;
  } catch (err) {
    if (!(err instanceof QuickExit)) throw err;
  }
}

export async function cmdDown(s: Session): Promise<void> {
  const daemon = await s.device.daemonState(s.ifname);
  if (daemon === 'absent') s.die(`\`${s.ifname}' is not a WireGuard interface`);
  if (daemon === 'stale') return cmdDownAfterCrash(s);
  await executeHooks(s, s.config.interface.preDown);
  if (s.config.interface.saveConfig) await saveConfig(s);
  await delIf(s);
  await s.device.waitGone(s.ifname, DAEMON_EXIT_WAIT_MS);
  await ignoreFailure(unsetDns(s));
  await ignoreFailure(removeFirewall(s));
  await executeHooks(s, s.config.interface.postDown);
}
