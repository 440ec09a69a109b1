/** A JSON object: not null, not an array (JSON.parse and parseJsonStrict give plain objects). */
/**
 * Array.isArray as a guard that keeps the element type: Array.isArray narrows a `readonly T[]` to
 * `any[]`, which would let the runtime check of attacker-controlled input erase its types.
 */
export function isArray<T>(v: readonly T[]): v is readonly T[];
export function isArray(v: unknown): v is readonly unknown[];
export function isArray(v: unknown): boolean {
  return Array.isArray(v);
}

export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
