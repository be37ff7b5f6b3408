/**
 * Bounded reads of key files and stdin, shared by wg's key-file grammar
 * (src/cli/wg/keyfile.ts) and the config file's (src/config/key-file.ts): a path like
 * /dev/zero or an endless pipe costs at most n bytes, never a hang or a full memory.
 */
import { readSync } from 'node:fs';

/** Reads up to n bytes (fewer only at end of input), retrying EAGAIN on a non-blocking fd. */
export function readUpTo(fd: number, n: number): Buffer {
  const buf = Buffer.alloc(n);
  let got = 0;
  while (got < n) {
    let r: number;
    try {
      r = readSync(fd, buf, got, n - got, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
        continue;
      }
      throw err;
    }
    if (r === 0) break;
    got += r;
  }
  return buf.subarray(0, got);
}

