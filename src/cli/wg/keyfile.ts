/**
 * Reading keys the way wg(8) does: `set … private-key FILE` (config.c parse_keyfile) and
 * `pubkey` (stdin). A key is 44 base64 characters; after it only whitespace may follow;
 * an empty file (or /dev/null) means "no key" (all zeros). The rest of the input is read
 * only until the first non-space byte, so /dev/zero or an endless pipe cannot hang us.
 */
import { closeSync, openSync } from 'node:fs';
import { readUpTo } from '../../config/bounded-read.js';
import { Errno, strerror } from '../../text/errno.js';
import { fsPath, type CliIo } from './cli-io.js';
import { parseKey } from './values.js';

const KEY_TEXT = 44;

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** The first byte after the key that is not allowed there, or null at end of input. */
export function firstTrailing(fd: number, allowNul: boolean): number | null {
  for (;;) {
    const chunk = readUpTo(fd, 4096);
    for (const c of chunk) if (!isSpace(c) && !(allowNul && c === 0)) return c;
    if (chunk.length < 4096) return null;
  }
}

function errnoOf(err: unknown): number {
  const n = (err as NodeJS.ErrnoException).errno;
  return typeof n === 'number' ? Math.abs(n) : Errno.EIO;
}

/** parse_keyfile(): null after printing wg's message. */
export function readKeyFile(io: CliIo, path: string): Uint8Array | null {
  let fd: number;
  try {
    fd = openSync(fsPath(path), 'r');
  } catch (err) {
    io.err(`fopen: ${strerror(errnoOf(err))}\n`);
    return null;
  }
  try {
    let head: Buffer;
    try {
      head = readUpTo(fd, KEY_TEXT);
    } catch {
      // A directory opens but does not read: wg's fread fails the same way.
      io.err('Invalid length key in key file\n');
      return null;
    }
    if (head.length === 0) return new Uint8Array(32);
    if (head.length < KEY_TEXT) {
      io.err('Invalid length key in key file\n');
      return null;
    }
    let trailing: number | null;
    try {
      trailing = firstTrailing(fd, false);
    } catch (err) {
      io.err(`getc: ${strerror(errnoOf(err))}\n`);
      return null;
    }
    if (trailing !== null) {
      io.err(`Found trailing character in key file: \`${String.fromCharCode(trailing)}'\n`);
      return null;
    }
    // C strings end at the first NUL.
    const text = head.toString('latin1').split('\0')[0];
    return parseKey(io, text);
  } finally {
    closeSync(fd);
  }
}
