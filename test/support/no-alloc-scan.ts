/**
 * A source scanner for hot-path files: per-packet code must allocate nothing, and heap
 * measurements are flaky (V8 may optimise an allocation away in one build and not the
 * next), so tests read the source instead. Inside every top-level function and class
 * method (constructors aside) it looks for constructs that create objects: `new`,
 * array and object literals, destructuring, closures, template strings, spreads,
 * allocating methods and globals.
 */

export const FORBIDDEN: Array<[RegExp, string]> = [
  [/\bnew\s+[A-Za-z_$]/, 'new'],
  [/=>/, 'closure'],
  [/`/, 'template string'],
  [/(=|\(|,|\breturn|\?|:)\s*\[/, 'array literal'],
  [/(=|\(|,|\breturn|\?|:)\s*\{/, 'object literal'],
  [/\b(const|let|var)\s*[[{]/, 'destructuring'],
  [/\.\.\./, 'spread'],
  [/\.(subarray|slice|map|filter|reduce|concat|split|join|toString|padStart|from|of|bind|emit)\(/, 'allocating method'],
  [/\b(Buffer|String|Array|Object|JSON|DataView|Promise|setImmediate|setTimeout)\b/, 'allocating global'],
  [/\barguments\b/, 'arguments object'],
];

export function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
}

function bodyFrom(src: string, start: number): string {
  let i = src.indexOf('(', start);
  let depth = 0;
  for (; i < src.length; i++) {
    if (src[i] === '(') depth++;
    else if (src[i] === ')' && --depth === 0) break;
  }
  const open = src.indexOf('{', i);
  depth = 0;
  let j = open;
  for (; j < src.length; j++) {
    if (src[j] === '{') depth++;
    else if (src[j] === '}' && --depth === 0) break;
  }
  return src.slice(open + 1, j);
}

/** Top-level functions and (two-space indented) class methods with their bodies. */
export function bodies(src: string): Array<{ name: string; body: string }> {
  const code = stripComments(src);
  const out: Array<{ name: string; body: string }> = [];
  const fn = /^(?:export\s+)?function\s+([A-Za-z0-9_$]+)/gm;
  for (let m = fn.exec(code); m !== null; m = fn.exec(code)) out.push({ name: m[1], body: bodyFrom(code, m.index) });
  const method = /^ {2}(?:(?:private|public|static|readonly)\s+)*(?:get\s+|set\s+)?([A-Za-z0-9_$]+)\s*\(/gm;
  for (let m = method.exec(code); m !== null; m = method.exec(code)) {
    if (m[1] === 'constructor') continue;
    out.push({ name: m[1], body: bodyFrom(code, m.index) });
  }
  return out;
}

/** "name: what: line" for every forbidden construct; `allowed` names are control-path code. */
export function violations(src: string, allowed: readonly string[] = []): string[] {
  const found: string[] = [];
  for (const { name, body } of bodies(src)) {
    if (allowed.includes(name)) continue;
    for (const line of body.split('\n')) {
      for (const [re, what] of FORBIDDEN) if (re.test(line)) found.push(`${name}: ${what}: ${line.trim()}`);
    }
  }
  return found;
}
