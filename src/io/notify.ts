/**
 * systemd readiness notification (sd_notify(3)) for Type=notify units, without
 * libsystemd: one datagram to $NOTIFY_SOCKET. Outside systemd (variable unset) every
 * call is a no-op that returns false.
 */
import { ErrorCode, FerryError } from '../errors.js';
import { loadNative } from './native.js';

/**
 * Sends newline-separated KEY=VALUE assignments. Returns false when NOTIFY_SOCKET is
 * unset or empty; throws a SystemError when the socket cannot be reached.
 */
export function sdNotify(state: string, socketPath: string | undefined = process.env.NOTIFY_SOCKET): boolean {
  if (typeof state !== 'string' || state.length === 0) throw new FerryError(ErrorCode.InvalidArgument, 'sd_notify state must be a non-empty string');
  if (socketPath === undefined || socketPath === '') return false;
  return loadNative().sdNotify(state, socketPath);
}

/** READY=1: startup finished (the TUN and sockets are open, config applied). */
export function ready(status?: string): boolean {
  return sdNotify(status === undefined ? 'READY=1' : `READY=1\nSTATUS=${oneLine(status)}`);
}

/** STOPPING=1: shutdown began. */
export function stopping(): boolean {
  return sdNotify('STOPPING=1');
}

/** STATUS=...: one line shown by `systemctl status`. */
export function status(text: string): boolean {
  return sdNotify(`STATUS=${oneLine(text)}`);
}

function oneLine(text: string): string {
  return String(text).replace(/[\r\n]+/g, ' ');
}
