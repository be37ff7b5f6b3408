/**
 * The control operation `planes-sync`: `ferry syncconf IFNAME FILE` with [Ferry…] sections
 * sends the file's text here before it sends the WireGuard part over UAPI. The daemon
 * parses it (every problem with file:line) and hands it to the plane modules
 * (WgDaemon.reloadPlanes: each checks the whole file before it changes anything), as a
 * reload of the daemon's own file would. wg-quick's keys are not syncconf's business
 * (`ferry strip` leaves Address out), so a file without Address keeps the addresses of
 * the config applied last: the VTEP still answers ARP for them.
 */
import type { ControlServer } from '../control/control-server.js';
import { formatIssue, isConfigError } from '../config/issues.js';
import type { WgQuickConfig } from '../config/model.js';
import { parseConfig } from '../config/parse.js';
import { ErrorCode, FerryError } from '../errors.js';
import type { Logger } from './logger.js';

export interface PlanesSyncTarget {
  /** The config the planes were last given (at start or by a reload), or null. */
  readonly planesConfig: WgQuickConfig | null;
  readonly hosted: ReadonlyArray<{ readonly name: string }>;
  reloadPlanes(config: WgQuickConfig): void;
}

interface PlanesSyncAnswer {
  ok: boolean;
  /** The planes mounted afterwards (names). */
  planes: string[];
  /** file:line messages; nothing was changed when there are any. */
  errors: string[];
}

/** Parses `text` and applies its [Ferry…] sections to the planes; never throws for a bad file. */
export function planesSync(target: PlanesSyncTarget, text: string, file: string): PlanesSyncAnswer {
  const planes = () => target.hosted.map((h) => h.name);
  try {
    const parsed = parseConfig(text, { file });
    const last = target.planesConfig;
    const config = parsed.interface.addresses.length === 0 && last !== null ? { ...parsed, interface: { ...parsed.interface, addresses: last.interface.addresses } } : parsed;
    target.reloadPlanes(config);
    return { ok: true, planes: planes(), errors: [] };
  } catch (err) {
    if (isConfigError(err)) return { ok: false, planes: planes(), errors: err.errors.map(formatIssue) };
    return { ok: false, planes: planes(), errors: [`${file}: ${(err as Error).message}`] };
  }
}

export function registerPlanesSync(control: ControlServer, target: PlanesSyncTarget, logger: Logger): void {
  control.handle('planes-sync', (request) => {
    const { text, file } = request;
    if (typeof text !== 'string' || typeof file !== 'string') throw new FerryError(ErrorCode.InvalidArgument, 'planes-sync needs "text" and "file" strings');
    const answer = planesSync(target, text, file);
    if (answer.ok) logger.info({ file, planes: answer.planes }, 'syncconf: [Ferry…] sections applied');
    else for (const e of answer.errors) logger.error({ file }, `syncconf: ${e}; nothing was changed`);
    return answer;
  });
}
