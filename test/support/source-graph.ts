/**
 * The module graph of the repository's TypeScript, read with the TypeScript compiler's
 * parser (no type checking, so it is fast and sees exactly what is written): every file's
 * imports and re-exports, resolved to repository files, with the names they take, and
 * every file's own exports. test/structure/layers.test.ts checks the import direction
 * with it, test/structure/unused-exports.test.ts that every export of src/ is used.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Every name of the target is taken (a dynamic import, a namespace used as a value, `export *`). */
export const ALL = '*';

export interface ModuleRef {
  /** Repository-relative path of the imported file ("src/io/udp.ts"), or null for a package. */
  target: string | null;
  specifier: string;
  /** Names taken from the target (ALL for every name); empty for a side-effect import. */
  names: string[];
  /** A re-export: `export { a as b } from`, `export * from`; `as` maps each name taken to the name this file exports. */
  reexport: { as: Map<string, string>; star: boolean } | null;
  typeOnly: boolean;
  line: number;
}

export interface SourceModule {
  path: string;
  refs: ModuleRef[];
  /** Names this file exports from its own declarations (`export function f`, `export { a }`, default). */
  ownExports: Map<string, number>;
}

/** Repository-relative paths of the .ts / .mts / .mjs files below dir. */
export function listSources(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(join(REPO, d))) {
      const p = join(d, name);
      if (statSync(join(REPO, p)).isDirectory()) {
        if (name !== 'node_modules') walk(p);
      } else if (/\.(ts|mts|mjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** "./x.js" from src/a/b.ts -> "src/a/x.ts" when that file exists; null for packages and what is not a file here. */
function resolveSpecifier(from: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const base = join(dirname(from), specifier);
  const candidates = [base, base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), `${base}.ts`, join(base, 'index.ts')];
  for (const c of candidates) {
    try {
      if (statSync(join(REPO, c)).isFile()) return relative(REPO, join(REPO, c));
    } catch {
      // not this one
    }
  }
  return null;
}

function hasExport(node: ts.Node): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
}

function hasDefault(node: ts.Node): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.DefaultKeyword);
}

function bindingNames(name: ts.BindingName, out: string[]): void {
  if (ts.isIdentifier(name)) out.push(name.text);
  else for (const e of name.elements) if (!ts.isOmittedExpression(e)) bindingNames(e.name, out);
}

/** The names a namespace import `ns` is used for in the file: `ns.x` and `ns.X` in types; ALL when ns is used whole. */
function namespaceUses(file: ts.SourceFile, ns: string): string[] {
  const names = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && node.text === ns) {
      const p = node.parent;
      if (ts.isPropertyAccessExpression(p) && p.expression === node) names.add(p.name.text);
      else if (ts.isQualifiedName(p) && p.left === node) names.add(p.right.text);
      else if (!ts.isNamespaceImport(p)) names.add(ALL);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return [...names];
}

export function parseModule(path: string): SourceModule {
  const text = readFileSync(join(REPO, path), 'utf8');
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.ES2022, true, path.endsWith('.mjs') ? ts.ScriptKind.JS : ts.ScriptKind.TS);
  const refs: ModuleRef[] = [];
  const ownExports = new Map<string, number>();
  const lineOf = (node: ts.Node): number => file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1;
  const ref = (node: ts.Node, specifier: string, names: string[], typeOnly: boolean, reexport: ModuleRef['reexport'] = null): void => {
    refs.push({ target: resolveSpecifier(path, specifier), specifier, names, reexport, typeOnly, line: lineOf(node) });
  };

  for (const st of file.statements) {
    if (ts.isImportDeclaration(st) && ts.isStringLiteral(st.moduleSpecifier)) {
      const names: string[] = [];
      const clause = st.importClause;
      if (clause?.name) names.push('default');
      const bindings = clause?.namedBindings;
      if (bindings && ts.isNamedImports(bindings)) for (const el of bindings.elements) names.push((el.propertyName ?? el.name).text);
      if (bindings && ts.isNamespaceImport(bindings)) names.push(...namespaceUses(file, bindings.name.text));
      ref(st, st.moduleSpecifier.text, names, clause?.isTypeOnly === true);
    } else if (ts.isExportDeclaration(st)) {
      if (st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier)) {
        const as = new Map<string, string>();
        let star = false;
        if (st.exportClause === undefined) star = true;
        else if (ts.isNamespaceExport(st.exportClause)) as.set(ALL, st.exportClause.name.text);
        else for (const el of st.exportClause.elements) as.set((el.propertyName ?? el.name).text, el.name.text);
        ref(st, st.moduleSpecifier.text, [], st.isTypeOnly, { as, star });
      } else if (st.exportClause && ts.isNamedExports(st.exportClause)) {
        for (const el of st.exportClause.elements) ownExports.set(el.name.text, lineOf(el));
      }
    } else if (ts.isExportAssignment(st)) {
      ownExports.set('default', lineOf(st));
    } else if (hasExport(st)) {
      if (hasDefault(st)) ownExports.set('default', lineOf(st));
      else if (ts.isVariableStatement(st)) {
        for (const d of st.declarationList.declarations) {
          const names: string[] = [];
          bindingNames(d.name, names);
          for (const n of names) ownExports.set(n, lineOf(d));
        }
      } else {
        const name = (st as ts.DeclarationStatement).name;
        if (name !== undefined && (ts.isIdentifier(name) || ts.isStringLiteral(name))) ownExports.set(name.text, lineOf(st));
      }
    }
  }

  // import('x') anywhere, and import('x').T in types: every name, or the one named.
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      if (arg !== undefined && ts.isStringLiteralLike(arg)) ref(node, arg.text, [ALL], false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      let q: ts.EntityName | undefined = node.qualifier;
      while (q !== undefined && ts.isQualifiedName(q)) q = q.left;
      ref(node, node.argument.literal.text, [q === undefined ? ALL : q.text], true);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return { path, refs, ownExports };
}

/** Top folder of a src/ file: "src/io/udp.ts" -> "io", "src/errors.ts" -> "errors". */
export function srcFolder(path: string): string {
  const parts = path.split('/');
  return parts.length === 2 ? parts[1].replace(/\.ts$/, '') : parts[1];
}

export function isTestFile(path: string): boolean {
  return /\.test\.ts$/.test(path);
}
