/**
 * `ferry genkey`, `ferry genpsk`, `ferry pubkey` (genkey.c, pubkey.c): the same output,
 * warnings and errors as wg. pubkey reads exactly one 44-character base64 key from stdin;
 * after it only whitespace (and NUL bytes) may follow.
 */
import { fstatSync } from 'node:fs';
import { initCrypto } from '../../wireguard/crypto.js';
import { formatKeyBase64, generatePresharedKey, generatePrivateKey, publicKeyFromPrivate, tryParseKeyBase64 } from '../../wireguard/keys.js';
import type { CliIo } from './cli-io.js';
import { readUpTo } from '../../config/bounded-read.js';
import { firstTrailing } from './keyfile.js';
import { usageLine } from './usage.js';

/** genkey.c: warns when stdout is a regular file others may read. */
function warnWorldReadable(io: CliIo): void {
  try {
    const st = fstatSync(io.stdoutFd);
    if (st.isFile() && (st.mode & 0o007) !== 0) io.err('Warning: writing to world accessible file.\nConsider setting the umask to 077 and trying again.\n');
  } catch {
    // no stdout to look at
  }
}

export async function genkeyMain(io: CliIo, verb: 'genkey' | 'genpsk', args: readonly string[]): Promise<number> {
  if (args.length !== 0) {
    io.err(`${usageLine(io.prog, verb)}\n`);
    return 1;
  }
  warnWorldReadable(io);
  await initCrypto();
  const key = verb === 'genkey' ? generatePrivateKey() : generatePresharedKey();
  io.out(`${formatKeyBase64(key)}\n`);
  return 0;
}

export async function pubkeyMain(io: CliIo, args: readonly string[]): Promise<number> {
  if (args.length !== 0) {
    io.err(`${usageLine(io.prog, 'pubkey')}\n`);
    return 1;
  }
  const bad = `${io.prog}: Key is not the correct length or format\n`;
  const head = readUpTo(io.stdinFd, 44);
  if (head.length !== 44) {
    io.err(bad);
    return 1;
  }
  if (firstTrailing(io.stdinFd, true) !== null) {
    io.err(`${io.prog}: Trailing characters found after key\n`);
    return 1;
  }
  const priv = tryParseKeyBase64(head.toString('latin1'));
  if (priv === null) {
    io.err(bad);
    return 1;
  }
  await initCrypto();
  io.out(`${formatKeyBase64(publicKeyFromPrivate(priv))}\n`);
  return 0;
}
