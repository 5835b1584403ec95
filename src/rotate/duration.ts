import { VaultsmithError } from '../errors.js';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `90d`, `12h`, `2w`, `30s` → milliseconds (the manifest's duration syntax); `0` is zero. */
export function parseDuration(text: string | undefined, what = 'duration'): number {
  if (text === undefined || text === '0') return 0;
  const m = /^([0-9]+)([smhdw])$/.exec(text.trim());
  if (!m) throw new VaultsmithError('MANIFEST', `invalid ${what} '${text}' (expected e.g. 90d, 12h, 2w)`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** Milliseconds as a short human age: `45s`, `3h`, `12d`. */
export function formatAge(ms: number): string {
  const abs = Math.abs(ms);
  const sign = ms < 0 ? '-' : '';
  if (abs < 60_000) return `${sign}${Math.floor(abs / 1000)}s`;
  if (abs < 3_600_000) return `${sign}${Math.floor(abs / 60_000)}m`;
  if (abs < 86_400_000) return `${sign}${Math.floor(abs / 3_600_000)}h`;
  return `${sign}${Math.floor(abs / 86_400_000)}d`;
}
