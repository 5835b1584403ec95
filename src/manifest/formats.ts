/**
 * Value checks declared in the manifest: formats, estimated strength and placeholder detection.
 * Every function returns problems as text that never contains the value itself.
 */
import { checkDjangoSecretKey, isFernetKey } from '../gen/index.js';
import type { FormatSpec } from './schema.js';

/** Placeholders copied from the operations guide's examples. */
const KNOWN_PLACEHOLDERS = new Set([
  'APP-SPECIFIC-PASSWORD',
  'S3-ACCESS-KEY',
  'S3-SECRET-KEY',
  'https://...@sentry.io/...',
  'your-strong-staging-password',
  'your-strong-production-password',
  'SECRET_VALUE',
]);
/** `GENERATED-...`, `YOUR-...` and `CHANGE-ME` anywhere (e.g. inside a URL), in capitals as the guide writes them. */
const PLACEHOLDER_PATTERN = /(?:^|[^A-Za-z0-9])(?:GENERATED-[A-Z0-9-]+|YOUR-[A-Z0-9-]+|CHANGE-?ME)(?![a-z0-9])/;

/** Why `value` looks like a placeholder, or null. `declared` is the manifest's own placeholder. */
export function placeholderReason(value: string, declared?: string): string | null {
  if (value.trim() === '') return 'empty value';
  if (declared !== undefined && value === declared) return "init's placeholder";
  if (KNOWN_PLACEHOLDERS.has(value)) return "a placeholder from the guide's example";
  const m = PLACEHOLDER_PATTERN.exec(value);
  if (m) {
    const word = m[0].replace(/^[^A-Za-z0-9]/, '');
    // The placeholder word is not secret (it is the absence of one), so naming its kind is safe.
    return `placeholder value (${word.startsWith('GENERATED') ? 'GENERATED-...' : word.startsWith('YOUR') ? 'YOUR-...' : 'CHANGE-ME'})`;
  }
  return null;
}

const HOST_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

export function isHost(value: string): boolean {
  if (IPV4.test(value)) return true;
  if (/^\[?[0-9A-Fa-f:]+\]?$/.test(value) && value.includes(':')) return true;
  if (value.length > 253) return false;
  return value.split('.').every((label) => HOST_LABEL.test(label));
}

/** Problems of `value` against a declared format; empty when it conforms. */
export function formatProblems(value: string, format: FormatSpec): string[] {
  if (typeof format === 'object') {
    return new RegExp(`^(?:${format.regex})$`, 'u').test(value) ? [] : [`does not match the pattern ${format.regex}`];
  }
  switch (format) {
    case 'fernet':
      return isFernetKey(value) ? [] : ['is not a Fernet key (32 bytes, url-safe base64, 44 characters)'];
    case 'django-secret-key':
      return checkDjangoSecretKey(value);
    case 'url': {
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        return ['is not a valid URL'];
      }
      return url.host ? [] : ['is a URL without a host'];
    }
    case 'host':
      return isHost(value) ? [] : ['is not a valid host name or IP address'];
    case 'port': {
      const n = /^\d+$/.test(value) ? Number(value) : NaN;
      return n >= 1 && n <= 65535 ? [] : ['is not a port number (1-65535)'];
    }
    case 'email':
      return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value) ? [] : ['is not an e-mail address'];
  }
}

/**
 * Estimated strength in bits: length × log2(size of the character classes the value uses). A rough
 * upper bound (it cannot see patterns), enough to catch short or single-class values.
 */
export function estimateStrengthBits(value: string): number {
  const chars = Array.from(value);
  let pool = 0;
  if (chars.some((c) => c >= 'a' && c <= 'z')) pool += 26;
  if (chars.some((c) => c >= 'A' && c <= 'Z')) pool += 26;
  if (chars.some((c) => c >= '0' && c <= '9')) pool += 10;
  if (chars.some((c) => c.charCodeAt(0) < 128 && !/[A-Za-z0-9]/.test(c))) pool += 33;
  if (chars.some((c) => c.charCodeAt(0) >= 128)) pool += 100;
  return pool === 0 ? 0 : Math.floor(chars.length * Math.log2(pool));
}
