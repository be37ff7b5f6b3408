/**
 * The TUN clone device, /dev/net/tun (character device 10:200). A container runtime does
 * not always provide it; with CAP_MKNOD the sidecar makes it itself, as the tun
 * documentation's `mknod /dev/net/tun c 10 200` does.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { ErrorCode, FerryError } from '../errors.js';
import { loadNative } from './native.js';

export const TUN_NODE = '/dev/net/tun';
export const TUN_MAJOR = 10;
export const TUN_MINOR = 200;

/**
 * Makes `path` the TUN character device unless it exists: 'present' or 'created'. A path
 * that exists as something else is an error; so is mknod without CAP_MKNOD (EPERM).
 */
export function ensureTunNode(path = TUN_NODE): 'present' | 'created' {
  if (existsSync(path)) {
    const s = statSync(path);
    if (!s.isCharacterDevice()) throw new FerryError(ErrorCode.InvalidArgument, `${path} exists but is not a character device`);
    return 'present';
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  loadNative().makeCharDevice(path, TUN_MAJOR, TUN_MINOR, 0o666);
  return 'created';
}
