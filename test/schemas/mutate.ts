// Shared by the schema tests (not a test file itself).

/**
 * A deep copy of `doc` with the value at a path replaced, or a member `extra` added: path[i] picks
 * a child by its position (modulo the number of children), so any list of numbers is a valid path.
 */
export function mutate(doc: unknown, path: readonly number[], value: unknown, add: boolean): unknown {
  if (doc === null || typeof doc !== 'object') return value;
  if (path.length === 0) return add && !Array.isArray(doc) ? { ...doc, extra: value } : value;
  const entries = Array.isArray(doc) ? doc.map((v, i) => [i, v] as const) : Object.entries(doc);
  if (entries.length === 0) return value;
  const [key, child] = entries[path[0]! % entries.length]!;
  const copy = (Array.isArray(doc) ? [...doc] : { ...doc }) as Record<string | number, unknown>;
  copy[key] = mutate(child, path.slice(1), value, add);
  return copy;
}
