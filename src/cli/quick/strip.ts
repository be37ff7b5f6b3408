/** `ferry strip` (wg-quick's cmd_strip): the file as `ferry syncconf` reads it ([Ferry…] sections kept), on stdout. */
import { stripConfig } from '../../config/strip.js';
import type { Session } from './session.js';

export function cmdStrip(s: Session): void {
  s.io.stdout.write(stripConfig(s.config, {}, 'keep'));
}
