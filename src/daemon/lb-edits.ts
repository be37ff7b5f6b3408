/**
 * What `ferry service add|del|set-backend|drain` change: the [FerryService] sections of
 * the config in force (the file, with the edits made since), edited and then read by the
 * file's own readers (lb-settings.ts). A bad argument therefore reads as a bad line of
 * the file would, and an edit that would leave an invalid config is refused whole. Edits
 * last until the file is reloaded, which is the truth again (as `wg set`, `wg syncconf`).
 */
import { ConfigError, IssueList } from '../config/issues.js';
import { checkExtensions } from '../config/extensions.js';
import { SERVICE_SECTION } from '../config/lb-sections.js';
import { lbSettingsFromConfig } from '../config/lb-settings.js';
import { parseBackend } from '../config/lb-values.js';
import type { ExtensionEntry, ExtensionSection, WgQuickConfig } from '../config/model.js';
import { BadValue } from '../config/values.js';
import type { LbSettings } from '../lb/settings.js';

const isService = (s: ExtensionSection) => s.name.toLowerCase() === SERVICE_SECTION.toLowerCase();
const valueOf = (s: ExtensionSection, key: string) => s.entries.find((e) => e.key.toLowerCase() === key.toLowerCase())?.value;

/** The LB settings of an edited config; its problems as one BadValue (the edit's own lines have no number). */
export function editedSettings(config: WgQuickConfig): LbSettings {
  try {
    const settings = lbSettingsFromConfig(config);
    if (settings === null) throw new BadValue('the interface has no [FerryLb]');
    return settings;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new BadValue(err.errors.map((e) => (e.line > 0 ? `${e.file}:${e.line}: ${e.message}` : e.message)).join('; '));
  }
}

function serviceSection(config: WgQuickConfig, name: string): ExtensionSection {
  const s = config.extensions.find((x) => isService(x) && valueOf(x, 'Name') === name);
  if (s === undefined) throw new BadValue(`no service ${JSON.stringify(name)}`);
  return s;
}

function replaced(config: WgQuickConfig, old: ExtensionSection, next: ExtensionSection | null): WgQuickConfig {
  const extensions = next === null ? config.extensions.filter((s) => s !== old) : config.extensions.map((s) => (s === old ? next : s));
  return { ...config, extensions };
}

/** A new [FerryService] from NAME, ADDRESS and KEY=VALUE words (the section's own keys). */
export function withService(config: WgQuickConfig, name: string, address: string, options: readonly string[]): WgQuickConfig {
  if (config.extensions.some((x) => isService(x) && valueOf(x, 'Name') === name)) throw new BadValue(`service ${name} exists already: expected a new name (ferry service del first)`);
  const entries: ExtensionEntry[] = [
    { key: 'Name', value: name, line: 0 },
    { key: 'Address', value: address, line: 0 },
  ];
  for (const o of options) {
    const eq = o.indexOf('=');
    if (eq <= 0) throw new BadValue(`${JSON.stringify(o)} is not KEY=VALUE: expected [${SERVICE_SECTION}] keys such as Protocol=udp or "Backend=10.0.1.2:8080 weight=2"`);
    entries.push({ key: o.slice(0, eq).trim(), value: o.slice(eq + 1).trim(), line: 0 });
  }
  const section: ExtensionSection = { name: SERVICE_SECTION, line: 0, entries };
  const issues = new IssueList(config.source.file);
  checkExtensions([section], issues);
  if (issues.errors.length > 0) throw new BadValue(issues.errors.map((e) => e.message).join('; '));
  return { ...config, extensions: [...config.extensions, section] };
}

export function withoutService(config: WgQuickConfig, name: string): WgQuickConfig {
  return replaced(config, serviceSection(config, name), null);
}

/** The backend entry of a section named by ADDRESS:PORT (as the Backend key writes it), or -1. */
function backendIndex(section: ExtensionSection, name: string): number {
  const want = parseBackend(name).name;
  return section.entries.findIndex((e) => e.key.toLowerCase() === 'backend' && parseBackend(e.value).name === want);
}

/**
 * Adds or changes one backend of a service: `value` is a Backend line ("10.0.1.2:8080
 * weight=2 drain"); with `remove`, the backend named by its ADDRESS:PORT goes.
 */
export function withBackend(config: WgQuickConfig, service: string, value: string, remove: boolean): WgQuickConfig {
  const old = serviceSection(config, service);
  const i = backendIndex(old, value);
  const entries = [...old.entries];
  if (remove) {
    if (i < 0) throw new BadValue(`service ${service} has no backend ${parseBackend(value).name}`);
    entries.splice(i, 1);
  } else if (i >= 0) {
    entries[i] = { key: 'Backend', value, line: entries[i].line };
  } else {
    entries.push({ key: 'Backend', value, line: 0 });
  }
  return replaced(config, old, { ...old, entries });
}

/** Drains one backend (or, with drain false, takes it back): the rest of its line stays. */
export function withDrain(config: WgQuickConfig, service: string, backend: string, drain: boolean): WgQuickConfig {
  const old = serviceSection(config, service);
  const i = backendIndex(old, backend);
  if (i < 0) throw new BadValue(`service ${service} has no backend ${parseBackend(backend).name}`);
  const b = parseBackend(old.entries[i].value);
  const value = `${b.name}${b.weight !== 1 ? ` weight=${b.weight}` : ''}${drain ? ' drain' : ''}`;
  return withBackend(config, service, value, false);
}
