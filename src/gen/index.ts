/**
 * Secret generators: every value comes from the OS CSPRNG (node:crypto), characters are drawn by
 * rejection sampling, and each kind reproduces the one-liner the operations guide used:
 * Django's `get_random_secret_key()`, `Fernet.generate_key()`, `openssl rand -base64|-hex N`,
 * Python's `secrets.token_urlsafe(N)`.
 */
import { randomBytes } from 'node:crypto';
import { VaultsmithError } from '../errors.js';
import { urlsafeB64encode } from '../fernet/python-base64.js';
import { CHARSETS, DJANGO_SECRET_KEY_CHARS, resolveCharset } from './charsets.js';
import { randomString } from './random.js';
import { checkDjangoSecretKey, DJANGO_SECRET_KEY_MIN_LENGTH } from './validate.js';

export { randomString } from './random.js';
export { CHARSETS, DJANGO_SECRET_KEY_CHARS, resolveCharset } from './charsets.js';
export { canQuote, quoteValue, formatAssignment, QUOTE_FORMATS, type QuoteFormat } from './quote.js';
export {
  checkDjangoSecretKey,
  isFernetKey,
  DJANGO_SECRET_KEY_MIN_LENGTH,
  DJANGO_SECRET_KEY_MIN_UNIQUE_CHARACTERS,
  DJANGO_SECRET_KEY_INSECURE_PREFIX,
} from './validate.js';

export type GeneratorKind = 'django-secret-key' | 'fernet' | 'base64' | 'hex' | 'token-urlsafe' | 'password';

export const GENERATOR_KINDS: readonly GeneratorKind[] = [
  'django-secret-key',
  'fernet',
  'base64',
  'hex',
  'token-urlsafe',
  'password',
];

export interface GeneratorSpec {
  kind: GeneratorKind;
  /** Random bytes for base64, hex, token-urlsafe (default 32). */
  bytes?: number;
  /** Characters for password (default 32) and django-secret-key (default and minimum 50). */
  length?: number;
  /** Named charset (see CHARSETS) or literal characters, for password (default alnum). */
  charset?: string;
  /** Characters to leave out of the charset, for password. */
  exclude?: string;
}

export const DEFAULT_BYTES = 32;
export const DEFAULT_PASSWORD_LENGTH = 32;
export const MAX_BYTES = 4096;
export const MAX_LENGTH = 4096;
const MIN_PASSWORD_LENGTH = 8;

export function isGeneratorKind(value: string): value is GeneratorKind {
  return (GENERATOR_KINDS as readonly string[]).includes(value);
}

function checkedInteger(value: number | undefined, fallback: number, min: number, max: number, what: string): number {
  const n = value ?? fallback;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new VaultsmithError('INPUT', `${what} must be an integer from ${min} to ${max}`);
  }
  return n;
}

function randomByteCount(spec: GeneratorSpec): Buffer {
  return randomBytes(checkedInteger(spec.bytes, DEFAULT_BYTES, 1, MAX_BYTES, `${spec.kind}: bytes`));
}

/** One new secret of the given kind. */
export function generateSecret(spec: GeneratorSpec): string {
  switch (spec.kind) {
    case 'django-secret-key': {
      const length = checkedInteger(spec.length, DJANGO_SECRET_KEY_MIN_LENGTH, DJANGO_SECRET_KEY_MIN_LENGTH, MAX_LENGTH, 'django-secret-key: length');
      // Django's checks fail with probability below 1e-20; redrawing then keeps the promise that
      // every key passes them.
      for (;;) {
        const key = randomString(length, DJANGO_SECRET_KEY_CHARS);
        if (checkDjangoSecretKey(key).length === 0) return key;
      }
    }
    case 'fernet':
      return urlsafeB64encode(randomBytes(32));
    case 'base64':
      // `openssl rand -base64 N` on one line (openssl wraps at 64 columns; a secret should not).
      return randomByteCount(spec).toString('base64');
    case 'hex':
      return randomByteCount(spec).toString('hex');
    case 'token-urlsafe':
      // Python's secrets.token_urlsafe(N): url-safe base64 without padding.
      return randomByteCount(spec).toString('base64url');
    case 'password': {
      const length = checkedInteger(spec.length, DEFAULT_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, MAX_LENGTH, 'password: length');
      return randomString(length, resolveCharset(spec.charset ?? 'alnum', spec.exclude ?? ''));
    }
    default:
      throw new VaultsmithError('INPUT', `unknown generator kind '${String((spec as { kind: unknown }).kind)}'`, {
        hint: `kinds: ${GENERATOR_KINDS.join(', ')}`,
      });
  }
}

/** Estimated strength in bits of a generated value of this spec (length × log2(alphabet)). */
export function generatorEntropyBits(spec: GeneratorSpec): number {
  switch (spec.kind) {
    case 'django-secret-key':
      return (spec.length ?? DJANGO_SECRET_KEY_MIN_LENGTH) * Math.log2(DJANGO_SECRET_KEY_CHARS.length);
    case 'fernet':
      return 256;
    case 'password': {
      const size = Array.from(resolveCharset(spec.charset ?? 'alnum', spec.exclude ?? '')).length;
      return (spec.length ?? DEFAULT_PASSWORD_LENGTH) * Math.log2(size);
    }
    default:
      return 8 * (spec.bytes ?? DEFAULT_BYTES);
  }
}

// Re-exported so callers can list named charsets without importing the charsets module.
export const CHARSET_NAMES: readonly string[] = Object.keys(CHARSETS);
