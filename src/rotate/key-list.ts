/** Comma-separated key lists: Django keys and Fernet keys never contain a comma. */
export function splitKeyList(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String).filter(Boolean);
  if (typeof value !== 'string') return [];
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}
