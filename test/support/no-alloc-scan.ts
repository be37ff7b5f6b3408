/**
 * A source scanner for hot-path files: per-packet code must allocate nothing, and heap
 * measurements are flaky (V8 may optimise an allocation away in one build and not the
 * next), so tests read the source instead. Inside every top-level function and class
 * method (constructors aside) it looks for constructs that create objects: `new`,
 * array and object literals, destructuring, closures, template strings, spreads,
 * allocating methods and globals. bench/datapath.ts checks the same at run time.
 *
 * Error paths are not scanned: a `throw` statement and a `catch` block run when
 * something failed (a closed port, an I/O error, a bug), and then allocate what the error
 * needs; what matters is that the packets of a working datapath never get there.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

export const FORBIDDEN: Array<[RegExp, string]> = [
  [/\bnew\s+[A-Za-z_$]/, 'new'],
  [/=>/, 'closure'],
  [/`/, 'template string'],
  [/(=|\(|,|\breturn|\?|:|\bof)\s*\[/, 'array literal'],
  [/(=|\(|,|\breturn|\?|:)\s*\{/, 'object literal'],
  [/\b(const|let|var)\s*[[{]/, 'destructuring'],
  [/\.\.\./, 'spread'],
  [/\.(subarray|slice|map|filter|reduce|concat|split|join|toString|padStart|from|of|bind|emit|values|keys|entries)\(/, 'allocating method'],
  [/\b(Buffer|String|Array|Object|JSON|DataView|Promise|setImmediate|setTimeout)\b/, 'allocating global'],
  [/\barguments\b/, 'arguments object'],
];

export const REPO_ROOT = resolve(import.meta.dirname, '../..');

export function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
}

/** Index just past the bracket that closes the one at `open` (the same kind, nested). */
function closing(src: string, open: number): number {
  const o = src[open];
  const c = o === '{' ? '}' : o === '(' ? ')' : ']';
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    if (src[i] === o) depth++;
    else if (src[i] === c && --depth === 0) return i + 1;
  }
  return src.length;
}

/** End of the statement starting at `from`: the `;` or line end outside any bracket. */
function statementEnd(src: string, from: number): number {
  let depth = 0;
  for (let i = from; i < src.length; i++) {
    const ch = src[i];
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') {
      if (depth === 0) return i;
      depth--;
    } else if (depth === 0 && (ch === ';' || ch === '\n')) return i + 1;
  }
  return src.length;
}

/** The body without its `throw` statements and `catch` blocks (see the file comment). */
export function stripErrorPaths(body: string): string {
  let out = body;
  for (let m = /\bcatch\b\s*(\([^)]*\))?\s*\{/.exec(out); m !== null; m = /\bcatch\b\s*(\([^)]*\))?\s*\{/.exec(out)) {
    const open = m.index + m[0].length - 1;
    out = out.slice(0, m.index) + out.slice(closing(out, open));
  }
  for (let m = /\bthrow\b/.exec(out); m !== null; m = /\bthrow\b/.exec(out)) {
    out = out.slice(0, m.index) + out.slice(statementEnd(out, m.index));
  }
  return out;
}

/** The body of the function whose name is at `start`; null for a declaration without one (an interface's). */
function bodyFrom(src: string, start: number): string | null {
  const afterParams = closing(src, src.indexOf('(', start));
  const open = src.indexOf('{', afterParams);
  const semi = src.indexOf(';', afterParams);
  if (open < 0 || (semi >= 0 && semi < open)) return null;
  return src.slice(open + 1, closing(src, open) - 1);
}

const KEYWORDS = new Set(['if', 'for', 'while', 'switch', 'return', 'catch', 'function', 'typeof', 'await', 'new', 'do', 'else', 'try', 'super', 'throw', 'void', 'delete', 'yield']);

/** Top-level functions and (two-space indented) class methods with their bodies. */
export function bodies(src: string): Array<{ name: string; body: string }> {
  const code = stripComments(src);
  const out: Array<{ name: string; body: string }> = [];
  const fn = /^(?:export\s+)?function\s+([A-Za-z0-9_$]+)/gm;
  for (let m = fn.exec(code); m !== null; m = fn.exec(code)) {
    const body = bodyFrom(code, m.index);
    if (body !== null) out.push({ name: m[1], body });
  }
  const method = /^ {2}(?:(?:private|public|static|readonly|protected|override)\s+)*(?:get\s+|set\s+)?([A-Za-z0-9_$]+)\s*(?:<[^>]*>)?\s*\(/gm;
  for (let m = method.exec(code); m !== null; m = method.exec(code)) {
    // A statement of a top-level function's body has the same indentation as a method.
    if (m[1] === 'constructor' || KEYWORDS.has(m[1])) continue;
    const body = bodyFrom(code, m.index);
    if (body !== null) out.push({ name: m[1], body });
  }
  return out;
}

/** "what: line" for every forbidden construct in a body (error paths left out). */
export function bodyViolations(body: string): string[] {
  const found: string[] = [];
  for (const line of stripErrorPaths(body).split('\n')) {
    for (const [re, what] of FORBIDDEN) if (re.test(line)) found.push(`${what}: ${line.trim()}`);
  }
  return found;
}

/** "name: what: line" for every forbidden construct; `allowed` names are control-path code. */
export function violations(src: string, allowed: readonly string[] = []): string[] {
  const found: string[] = [];
  for (const { name, body } of bodies(src)) {
    if (allowed.includes(name)) continue;
    for (const v of bodyViolations(body)) found.push(`${name}: ${v}`);
  }
  return found;
}

/**
 * The functions of a file reachable from `entries`: each entry, then whatever a reached
 * body calls or reads in the same file: `this.name` (a method or getter of the file; a
 * name shared by two classes takes both) and `name(` (a top-level function).
 */
export function reachable(src: string, entries: readonly string[]): Set<string> {
  const all = bodies(src);
  const names = new Set(all.map((b) => b.name));
  const seen = new Set<string>();
  const todo = [...entries];
  while (todo.length > 0) {
    const name = todo.pop() as string;
    if (seen.has(name) || !names.has(name)) continue;
    seen.add(name);
    for (const { name: n, body } of all) {
      if (n !== name) continue;
      const code = stripErrorPaths(body);
      for (const m of code.matchAll(/\bthis\.([A-Za-z0-9_$]+)/g)) if (names.has(m[1])) todo.push(m[1]);
      for (const m of code.matchAll(/(?<![.\w$])([A-Za-z0-9_$]+)\s*\(/g)) if (names.has(m[1])) todo.push(m[1]);
    }
  }
  return seen;
}

/** What a hot-path test says about one file. */
export interface HotFile {
  /** File name within the folder. */
  file: string;
  /**
   * The per-packet entry points; scanned with everything they reach in the file
   * (reachable()). Omitted: every function and method of the file is hot.
   */
  hot?: readonly string[];
  /** Functions left out, each with the reason (a control path, a once-per-event cost). */
  exempt?: Readonly<Record<string, string>>;
}

export interface FolderSpec {
  /** Folder from the repository root, e.g. "src/datapath" (or an absolute path). */
  folder: string;
  /** Files with entry points or exemptions; every other source file is hot as a whole. */
  files?: readonly HotFile[];
  /** Source files with no per-packet code at all, each with the reason. */
  notHot?: Readonly<Record<string, string>>;
  /**
   * Every source file must be named in `files` or `notHot` (for folders where most code is
   * not per packet): a new file is then classified when it is added, not scanned whole
   * or skipped by accident.
   */
  classifyAll?: boolean;
}

export interface FolderScan {
  /** "file name" of every function scanned. */
  scanned: string[];
  /** "file name: what: line" for every allocation found. */
  problems: string[];
  /** Entry points or exemptions naming nothing, files named but absent or (classifyAll) not named: the spec is stale. */
  stale: string[];
}

/** Scans a folder's source files (tests aside) as the spec says. */
export function scanFolder(spec: FolderSpec): FolderScan {
  const dir = resolve(REPO_ROOT, spec.folder);
  const sources = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  const byFile = new Map((spec.files ?? []).map((f) => [f.file, f]));
  const result: FolderScan = { scanned: [], problems: [], stale: [] };
  for (const f of [...byFile.keys(), ...Object.keys(spec.notHot ?? {})]) {
    if (!sources.includes(f)) result.stale.push(`${relative(REPO_ROOT, join(dir, f))} does not exist`);
  }
  for (const file of sources) {
    if (spec.notHot?.[file] !== undefined) continue;
    if (spec.classifyAll === true && !byFile.has(file)) {
      result.stale.push(`${relative(REPO_ROOT, join(dir, file))} is neither hot nor named as not hot`);
      continue;
    }
    const src = readFileSync(join(dir, file), 'utf8');
    const fileSpec = byFile.get(file);
    const all = bodies(src);
    const names = new Set(all.map((b) => b.name));
    for (const n of [...(fileSpec?.hot ?? []), ...Object.keys(fileSpec?.exempt ?? {})]) {
      if (!names.has(n)) result.stale.push(`${file}: no function or method named ${n}`);
    }
    const hot = fileSpec?.hot === undefined ? names : reachable(src, fileSpec.hot);
    for (const { name, body } of all) {
      if (!hot.has(name) || fileSpec?.exempt?.[name] !== undefined) continue;
      result.scanned.push(`${file} ${name}`);
      for (const v of bodyViolations(body)) result.problems.push(`${file} ${name}: ${v}`);
    }
  }
  return result;
}
