/** A JSON object: not null, not an array (JSON.parse and parseJsonStrict give plain objects). */
export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
