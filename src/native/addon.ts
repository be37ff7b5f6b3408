/**
 * Loads the native addon (build/Release/ferry.node) once, for every typed front door
 * above it: src/io/native.ts (TUN, UDP, poll, notify) and src/crypto/aead.ts (the AEAD
 * kernels). It sits below both so that neither imports the other to reach the addon.
 */
import { createRequire } from 'node:module';
import { ErrorCode, FerryError } from '../errors.js';

let addon: unknown;

/** The addon module itself. Throws FERRY_NATIVE_MISSING when it is not built. */
export function loadAddon(): unknown {
  if (addon !== undefined) return addon;
  const require = createRequire(import.meta.url);
  try {
    // Same relative path from src/native/*.ts (tsx) and dist/native/*.js.
    addon = require('../../build/Release/ferry.node') as unknown;
  } catch (err) {
    throw new FerryError(ErrorCode.NativeMissing, `native addon build/Release/ferry.node could not be loaded (${(err as Error).message}); run npm run build`, {
      cause: err,
    });
  }
  return addon;
}
