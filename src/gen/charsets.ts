import { VaultsmithError } from '../errors.js';

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';

/** The alphabet of Django's `get_random_secret_key()`. */
export const DJANGO_SECRET_KEY_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)';

function printableAscii(): string {
  let s = '';
  for (let code = 0x21; code <= 0x7e; code++) s += String.fromCharCode(code);
  return s;
}

/** Named character sets for `password` (and `--charset`). */
export const CHARSETS: Record<string, string> = {
  alnum: UPPER + LOWER + DIGITS,
  alpha: UPPER + LOWER,
  lower: LOWER,
  upper: UPPER,
  digits: DIGITS,
  hex: '0123456789abcdef',
  // RFC 3986 unreserved characters: safe in URLs (e.g. postgres://user:PASSWORD@host) without escaping.
  'url-safe': UPPER + LOWER + DIGITS + '-._~',
  // Needs no quoting in URLs, POSIX shells, YAML, .env files or systemd units.
  safe: UPPER + LOWER + DIGITS + '-_.',
  // Every visible ASCII character (0x21-0x7e), no space; strongest per character, but needs quoting.
  'ascii-printable': printableAscii(),
  django: DJANGO_SECRET_KEY_CHARS,
};

/**
 * A named charset or literal characters, minus `exclude`, as a string of distinct characters.
 * Duplicates are dropped (a repeated character would be drawn more often).
 */
export function resolveCharset(charset: string, exclude = ''): string {
  const base = Object.hasOwn(CHARSETS, charset) ? CHARSETS[charset]! : charset;
  const excluded = new Set(Array.from(exclude));
  const symbols = [...new Set(Array.from(base))].filter((c) => !excluded.has(c));
  for (const c of symbols) {
    // Control characters and whitespace in a secret only cause trouble downstream.
    if (/[\p{Cc}\p{Z}\p{Cs}]/u.test(c)) {
      throw new VaultsmithError('INPUT', 'charset contains whitespace or control characters', {
        hint: `use a named charset (${Object.keys(CHARSETS).join(', ')}) or visible characters`,
      });
    }
  }
  if (symbols.length < 2) {
    throw new VaultsmithError('INPUT', `charset '${charset}' leaves fewer than 2 distinct characters`, {
      hint: `named charsets: ${Object.keys(CHARSETS).join(', ')}; anything else is taken as a literal list of characters`,
    });
  }
  return symbols.join('');
}
