/**
 * PrivateKeyFile / PresharedKeyFile: a key kept in its own file (as `wg genkey > key`
 * writes it), so the config itself holds no secret. The content rule is wg's for
 * `wg set … private-key FILE`: the 44 base64 characters, then nothing but whitespace.
 * Reads are bounded, so a path like /dev/zero cannot hang or fill memory.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { readUpTo } from './bounded-read.js';
import { KEY_FILE_MAX_BYTES } from './constants.js';
import { quote } from './issues.js';
import { BadValue, parseKey } from './values.js';

interface KeyFileResult {
  key: Uint8Array;
  path: string;
  /** Others may read the file: worth a warning. */
  worldReadable: boolean;
}

function describeErrno(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'does not exist';
  if (code === 'EACCES' || code === 'EPERM') return 'cannot be read: permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return `cannot be read: ${code ?? String(err)}`;
}

/** Relative paths are taken from the config file's directory, never from the working directory. */
export function resolveKeyPath(path: string, configDir: string): string {
  return isAbsolute(path) ? path : resolve(configDir, path);
}

export function readKeyFile(key: string, path: string): KeyFileResult {
  const what = `${key} ${quote(path)}`;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new BadValue(`${what} ${describeErrno(err)}`);
  }
  let text: string;
  let worldReadable: boolean;
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new BadValue(`${what} is a directory: expected a file holding one base64 key`);
    worldReadable = (st.mode & 0o004) !== 0;
    const buf = readUpTo(fd, KEY_FILE_MAX_BYTES + 1);
    if (buf.length > KEY_FILE_MAX_BYTES) throw new BadValue(`${what} is too long: expected a file holding one base64 key`);
    text = buf.toString('latin1');
  } catch (err) {
    if (err instanceof BadValue) throw err;
    throw new BadValue(`${what} ${describeErrno(err)}`);
  } finally {
    closeSync(fd);
  }
  if (text.length === 0) throw new BadValue(`${what} is empty: expected one base64 key (wg genkey > FILE)`);
  const content = text.replace(/[ \t\n\v\f\r]+$/, '');
  try {
    return { key: parseKey(key, content), path, worldReadable };
  } catch {
    throw new BadValue(`${what} does not hold a valid key: expected 44 base64 characters (32 bytes) and nothing else`);
  }
}
