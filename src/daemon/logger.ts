/**
 * Logging: pino JSON lines on stdout (journald-friendly). LOG_LEVEL takes pino's levels
 * and wireguard-go's words (verbose, error, silent), so existing units keep working.
 * Keys never reach a log line: callers log public keys only as a short fingerprint.
 */
import { pino, type Logger } from 'pino';

const WIREGUARD_GO_LEVELS: Record<string, string> = { verbose: 'debug', error: 'error', silent: 'silent' };
const PINO_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export function logLevelFromEnv(value: string | undefined, fallback = 'info'): string {
  if (value === undefined || value === '') return fallback;
  const v = value.toLowerCase();
  if (WIREGUARD_GO_LEVELS[v]) return WIREGUARD_GO_LEVELS[v];
  if (PINO_LEVELS.has(v)) return v;
  return fallback;
}

export function createLogger(name: string, level = logLevelFromEnv(process.env.LOG_LEVEL)): Logger {
  return pino({
    name,
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Belt and braces: even if a caller passes a key object, these paths are masked.
    redact: { paths: ['privateKey', 'presharedKey', '*.privateKey', '*.presharedKey', 'private_key', 'preshared_key'], censor: '(hidden)' },
  });
}

/** A short, non-secret name for a public key in logs: the first 8 base64 characters. */
export function keyFingerprint(publicKey: Uint8Array): string {
  return Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('base64').slice(0, 8);
}

export type { Logger };
