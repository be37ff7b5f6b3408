/**
 * ferry's own sections of a config file ([FerryVxlan], [FerryService], …). A section is
 * understood only when some feature of this build registered a schema for it: any other
 * [Ferry…] section, and any key a schema does not list, is an error with file:line, as an
 * unknown wg-quick key is. A schema checks its values and turns the section's raw entries
 * into the feature's own settings; the parser keeps the raw entries too, so `ferry save`
 * and `ferry strip` can write them back or leave them out.
 */
import { type IssueList, quote } from './issues.js';
import type { ExtensionSection } from './model.js';

interface ExtensionSchema {
  /** The section name as written in files, e.g. "FerryVxlan" (matched case-insensitively). */
  readonly name: string;
  /** Keys the section takes (matched case-insensitively, reported as written here). */
  readonly keys: readonly string[];
  /** Keys that may be given more than once (e.g. Backend). */
  readonly repeatable?: readonly string[];
  /** May the section appear more than once (one per peer, one per service)? */
  readonly multiple: boolean;
  /** Checks values; reports problems with issues.error(line, message). */
  check?(section: ExtensionSection, issues: IssueList): void;
  /** Prefixes `ferry up` routes into the interface for this section (VXLAN subnets, a service range). */
  routes?(section: ExtensionSection): string[];
}

const schemas = new Map<string, ExtensionSchema>();

/** Registers a section's schema; features call it once, at module load. */
export function registerExtension(schema: ExtensionSchema): void {
  schemas.set(schema.name.toLowerCase(), schema);
}

/** The schema for a section name, or undefined when no feature of this build reads it. */
function extensionSchema(name: string): ExtensionSchema | undefined {
  return schemas.get(name.toLowerCase());
}

/** Names of the sections this build understands, for messages. */
function knownExtensions(): string[] {
  return [...schemas.values()].map((s) => s.name).sort();
}

/** Checks every [Ferry…] section of a file against the registered schemas. */
export function checkExtensions(sections: ExtensionSection[], issues: IssueList): void {
  const seen = new Map<string, number>();
  for (const section of sections) {
    const schema = extensionSchema(section.name);
    if (schema === undefined) {
      const known = knownExtensions();
      issues.error(section.line, `unknown section [${section.name}]: ${known.length === 0 ? 'this build of ferry has no [Ferry…] sections' : `expected one of ${known.map((k) => `[${k}]`).join(', ')}`}`);
      continue;
    }
    const first = seen.get(schema.name);
    if (first !== undefined && !schema.multiple) {
      issues.error(section.line, `[${schema.name}] is given twice (first at line ${first}): expected one [${schema.name}] section`);
      continue;
    }
    seen.set(schema.name, section.line);
    const given = new Map<string, number>();
    let ok = true;
    for (const entry of section.entries) {
      const key = schema.keys.find((k) => k.toLowerCase() === entry.key.toLowerCase());
      if (key === undefined) {
        const name = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/.test(entry.key) ? `unknown key ${quote(entry.key)}` : 'an unknown key';
        issues.error(entry.line, `${name} in [${schema.name}]: expected one of ${schema.keys.join(', ')}`);
        ok = false;
        continue;
      }
      const at = given.get(key);
      if (at !== undefined && !(schema.repeatable ?? []).includes(key)) {
        issues.error(entry.line, `${key} is given twice (first at line ${at}): expected it once per [${schema.name}]`);
        ok = false;
        continue;
      }
      given.set(key, entry.line);
    }
    if (ok) schema.check?.(section, issues);
  }
}

/** Every prefix the config's [Ferry…] sections route into the interface, in file order. */
export function extensionRoutes(sections: ExtensionSection[]): string[] {
  const out: string[] = [];
  for (const section of sections) out.push(...(extensionSchema(section.name)?.routes?.(section) ?? []));
  return out;
}
