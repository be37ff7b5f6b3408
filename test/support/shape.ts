/**
 * A small structural schema check for the deployment examples: an object shape lists the
 * keys it allows (`'*'` allows any key with that shape), `list(item)` is an array,
 * `oneOf(...)` a choice of leaf types, a leaf is a type name. Returns every problem as
 * "path: message".
 */
export type Leaf = 'string' | 'number' | 'boolean' | 'object';
export type Shape = Leaf | { readonly list: Shape } | { readonly oneOf: readonly Leaf[] } | { readonly fields: Readonly<Record<string, Shape>> };

export const list = (item: Shape): Shape => ({ list: item });
export const oneOf = (...types: Leaf[]): Shape => ({ oneOf: types });
export const obj = (fields: Record<string, Shape>): Shape => ({ fields });

function typeOf(v: unknown): string {
  return Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
}

export function check(value: unknown, shape: Shape, path = '$'): string[] {
  if (typeof shape === 'string') return typeOf(value) === shape ? [] : [`${path}: expected ${shape}, got ${typeOf(value)}`];
  if ('oneOf' in shape) return shape.oneOf.includes(typeOf(value) as Leaf) ? [] : [`${path}: expected ${shape.oneOf.join(' or ')}, got ${typeOf(value)}`];
  if ('list' in shape) {
    if (!Array.isArray(value)) return [`${path}: expected a list, got ${typeOf(value)}`];
    return value.flatMap((item, i) => check(item, shape.list, `${path}[${i}]`));
  }
  if (typeOf(value) !== 'object') return [`${path}: expected an object, got ${typeOf(value)}`];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const sub = shape.fields[k] ?? shape.fields['*'];
    if (sub === undefined) out.push(`${path}.${k}: unknown field (expected one of ${Object.keys(shape.fields).join(', ')})`);
    else out.push(...check(v, sub, `${path}.${k}`));
  }
  return out;
}
