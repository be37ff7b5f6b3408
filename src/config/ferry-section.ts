/**
 * [Ferry]: settings of the ferry daemon itself for this interface (the other [Ferry…]
 * sections belong to the planes). Today one key:
 *
 *   Http = ADDRESS:PORT     the probe and metrics port (/livez, /readyz, /metrics)
 *
 * Its schema is registered like every [Ferry…] section's (extensions.ts): an unknown key, a
 * key given twice, a bad value or a second [Ferry] section is an error with file:line and
 * nothing of the file is applied. `ferry strip` drops the section, as every [Ferry…] section.
 */
import { isIP } from 'node:net';
import { registerExtension } from './extensions.js';
import { type IssueList, quote } from './issues.js';
import type { ExtensionSection, WgQuickConfig } from './model.js';

const FERRY_SECTION = 'ferry';

export interface HttpAddress {
  /** An IP address, without brackets. */
  host: string;
  port: number;
}

interface FerrySettings {
  http: HttpAddress | null;
}

/** "127.0.0.1:9586", "[::1]:9586", "0.0.0.0:9586", "[::]:9586"; null with the reason when it is not one. */
export function parseHttpAddress(text: string): HttpAddress | { error: string } {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:[\]]+):(\d{1,5})$/.exec(text);
  const expected = 'expected ADDRESS:PORT, e.g. 127.0.0.1:9586 or [::1]:9586';
  if (m === null) return { error: `${quote(text)} is not an address and port: ${expected}` };
  const [, host, portText] = m;
  const bracketed = text.startsWith('[');
  const family = isIP(host);
  if (family === 0 || (family === 6) !== bracketed) return { error: `${quote(host)} is not an IP address: ${expected}` };
  const port = Number(portText);
  if (port < 1 || port > 65535) return { error: `port ${portText} is out of range: expected 1-65535` };
  return { host, port };
}

function isFerrySection(s: ExtensionSection): boolean {
  return s.name.toLowerCase() === FERRY_SECTION;
}

registerExtension({
  name: 'Ferry',
  keys: ['Http'],
  multiple: false,
  check(section: ExtensionSection, issues: IssueList): void {
    for (const e of section.entries) {
      const http = parseHttpAddress(e.value);
      if ('error' in http) issues.error(e.line, `Http: ${http.error}`);
    }
  },
});

/** The settings of a parsed (so already checked) config; defaults when it has no [Ferry]. */
export function ferrySettings(config: WgQuickConfig): FerrySettings {
  const section = config.extensions.find(isFerrySection);
  const entry = section?.entries.find((e) => e.key.toLowerCase() === 'http');
  const http = entry === undefined ? null : parseHttpAddress(entry.value);
  return { http: http === null || 'error' in http ? null : http };
}
