/**
 * Finding and reading a config file. A bare interface name is looked up as
 * /etc/ferry/NAME.conf, then /etc/wireguard/NAME.conf (wg-quick's place); anything with a
 * '/' or ending in ".conf" is a path. The interface is named after the file, so the file
 * name must be a valid interface name followed by ".conf", as wg-quick requires.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { CONFIG_DIRS, INTERFACE_NAME } from './constants.js';
import { ConfigError } from './issues.js';
import type { WgQuickConfig } from './model.js';
import { parseConfig } from './parse.js';

const NAME_RULE = 'expected 1-15 characters of A-Z a-z 0-9 _ = + . -';

export function isInterfaceName(name: string): boolean {
  return INTERFACE_NAME.test(name);
}

function fail(file: string, message: string): never {
  throw new ConfigError([{ file, line: 0, message }]);
}

export interface LookupOptions {
  /** Directories searched for NAME.conf, in order (default /etc/ferry, /etc/wireguard). */
  dirs?: readonly string[];
  exists?: (path: string) => boolean;
}

/** The config path for an interface name or a path. A name found nowhere gives the last directory's path (the error then names it). */
export function resolveConfigPath(nameOrPath: string, options: LookupOptions = {}): string {
  if (nameOrPath.includes('/') || nameOrPath.endsWith('.conf')) return nameOrPath;
  if (!isInterfaceName(nameOrPath)) fail(nameOrPath, `is neither an interface name (${NAME_RULE}) nor a path to a .conf file`);
  const dirs = options.dirs ?? CONFIG_DIRS;
  const exists = options.exists ?? existsSync;
  const candidates = dirs.map((d) => `${d}/${nameOrPath}.conf`);
  return candidates.find((p) => exists(p)) ?? candidates[candidates.length - 1];
}

/** "wg0" from ".../wg0.conf"; the name must be a valid interface name, as wg-quick requires. */
export function interfaceNameFromPath(path: string): string {
  const base = basename(path);
  const m = /^(.*)\.conf$/.exec(base);
  if (m === null || !isInterfaceName(m[1])) fail(path, `the config file must be a valid interface name followed by .conf: ${NAME_RULE}`);
  return m[1];
}

export interface LoadedConfig {
  path: string;
  interfaceName: string;
  config: WgQuickConfig;
}

/**
 * Finds, reads and parses a config (synchronously; endpoints are resolved separately).
 * Throws ConfigError for a missing or unreadable file as for a bad one.
 */
export function loadConfig(nameOrPath: string, options: LookupOptions = {}): LoadedConfig {
  const path = resolveConfigPath(nameOrPath, options);
  const interfaceName = interfaceNameFromPath(path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    fail(path, code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? String(err)})`);
  }
  const config = parseConfig(text, { file: path, dir: dirname(resolve(path)) });
  // wg-quick warns when others can reach the file: it usually holds a private key.
  const fileMode = statSync(path).mode;
  const dirMode = statSync(dirname(resolve(path))).mode;
  if ((fileMode & dirMode & 0o007) !== 0) config.warnings.unshift({ file: path, line: 0, message: 'is world accessible: expected mode 0600 (it may hold a private key)' });
  return { path, interfaceName, config };
}
