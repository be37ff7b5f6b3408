/**
 * PreUp, PostUp, PreDown, PostDown (wg-quick's execute_hooks): `%i` becomes the interface
 * name, the line is printed as "[#] HOOK" and run by bash in the shell wg-quick itself
 * runs in (`set -e -o pipefail`, `shopt -s extglob`, LC_ALL=C), so a hook behaves the
 * same under ferry. A failing hook ends the verb with its status (under `up`, after the
 * rollback).
 */
import { QuickExit } from './io.js';
import type { Session } from './session.js';

/** wg-quick's `${hook//%i/$INTERFACE}`. */
export function expandHook(hook: string, ifname: string): string {
  return hook.replaceAll('%i', ifname);
}

/** The argv that runs one expanded hook. */
export function hookCommand(hook: string): string[] {
  return ['bash', '-e', '-o', 'pipefail', '-O', 'extglob', '-c', hook];
}

export async function executeHooks(s: Session, hooks: readonly string[]): Promise<void> {
  for (const raw of hooks) {
    const hook = expandHook(raw, s.ifname);
    s.trace(hook);
    const r = await s.host.exec(hookCommand(hook));
    if (r.status !== 0) throw new QuickExit(r.status, `hook failed with status ${r.status}`);
  }
}
