/** `ferry strip` (wg-quick's cmd_strip): the file as wg(8) reads it, on stdout. */
import { stripConfig } from '../../config/strip.js';
import type { Session } from './session.js';

export function cmdStrip(s: Session): void {
  s.io.stdout.write(stripConfig(s.config));
}
