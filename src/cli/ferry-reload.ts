/**
 * `ferry reload IFNAME`: asks the daemon to re-read its config file and waits for the
 * outcome, so it can be a unit's ExecReload= (systemctl reload reports a bad file).
 */
import { controlRequest } from '../control/control-client.js';
import { ControlErrorCode } from '../control/control-server.js';
import type { CliIo } from './wg/cli-io.js';

interface ReloadAnswer {
  ok: boolean;
  peersChanged: number;
  errors: string[];
}

export async function reloadMain(io: CliIo, ifname: string): Promise<number> {
  let answer: ReloadAnswer;
  try {
    answer = (await controlRequest(ifname, 'reload', {}, undefined, 60_000)) as ReloadAnswer;
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code === ControlErrorCode.UnknownOp) io.err(`Unable to reload ${ifname}: its daemon was not started from a config file (ferry up, ferryd --up); use ferry syncconf\n`);
    else io.err(`Unable to reload ${ifname}: ${e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? 'no ferry daemon answers for it' : e.message}\n`);
    return 1;
  }
  if (!answer.ok) {
    for (const line of answer.errors) io.err(`${line}\n`);
    io.err(`Unable to reload ${ifname}: nothing was changed\n`);
    return 1;
  }
  io.out(`${ifname}: ${answer.peersChanged === 0 ? 'already matches its config file' : `${answer.peersChanged} peer${answer.peersChanged === 1 ? '' : 's'} changed`}\n`);
  return 0;
}
