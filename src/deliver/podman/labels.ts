/**
 * Labels vaultsmith puts on the Podman secrets it manages, and the keyed values inside them.
 *
 * - `vaultsmith.fingerprint` — HMAC-SHA256 over (secret name, value) under a key derived from the
 *   environment's vault password: sync compares it to know whether a value changed without Podman
 *   ever returning data (4.3 cannot). Keyed, so it is not a plain hash that could confirm a guess.
 * - `vaultsmith.sealed` — the value encrypted with AES-256-GCM under another derived key, bound to
 *   the environment and name. It is what lets a failed replace put the *previous* value back on
 *   Podman versions without `--replace` (Podman never hands the data back). It is as strong as the
 *   vault file itself; values larger than SEAL_MAX_BYTES are not sealed (and cannot be restored).
 *
 * Key derivation: PBKDF2-HMAC-SHA256 (100 000 iterations, ten times the vault's own cost, so the
 * labels give no cheaper way to guess the vault password than the vault file) then HKDF per purpose.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

export const LABEL_MANAGED = 'vaultsmith.managed';
export const LABEL_ENV = 'vaultsmith.env';
export const LABEL_FINGERPRINT = 'vaultsmith.fingerprint';
export const LABEL_SEALED = 'vaultsmith.sealed';
/** On a staged copy made during a swap: the name of the secret it is a copy for. */
export const LABEL_STAGING_FOR = 'vaultsmith.staging-for';
/** Labels sync owns; a caller's labels may not set them. */
export const RESERVED_LABELS: ReadonlySet<string> = new Set([
  'vaultsmith.managed',
  'vaultsmith.env',
  'vaultsmith.fingerprint',
  'vaultsmith.sealed',
  'vaultsmith.staging-for',
]);

/** Sealed copies travel as a `--label` argument; keep them far below Linux's 128 KiB per-argument limit. */
export const SEAL_MAX_BYTES = 16 * 1024;
const FINGERPRINT_PREFIX = 'hmac-sha256:';
const SEAL_PREFIX = 'v1.';
const KDF_ITERATIONS = 100_000;

const pbkdf2Async = promisify(pbkdf2);

export interface DeliveryKeys {
  environment: string;
  fingerprintKey: Buffer;
  sealKey: Buffer;
}

/** Derives the per-environment fingerprint and seal keys from the environment's vault password. */
export async function deriveDeliveryKeys(vaultPassword: Uint8Array, environment: string): Promise<DeliveryKeys> {
  const salt = Buffer.from(`vaultsmith/podman-delivery/v1\0${environment}`, 'utf8');
  const master = await pbkdf2Async(vaultPassword, salt, KDF_ITERATIONS, 32, 'sha256');
  const expand = (purpose: string) => Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), purpose, 32));
  const keys = { environment, fingerprintKey: expand('fingerprint'), sealKey: expand('seal') };
  master.fill(0);
  return keys;
}

/** Keys from raw key material (e.g. a dedicated random key kept in the vault); for the library API and tests. */
export function deliveryKeysFromSecret(keyMaterial: Uint8Array, environment: string): DeliveryKeys {
  const expand = (purpose: string) =>
    Buffer.from(hkdfSync('sha256', keyMaterial, Buffer.from(environment, 'utf8'), purpose, 32));
  return { environment, fingerprintKey: expand('fingerprint'), sealKey: expand('seal') };
}

function nameBound(name: string, value: Uint8Array): Buffer[] {
  // The name is part of the MAC input so two secrets with the same value get different labels.
  return [Buffer.from(`${name}\0`, 'utf8'), Buffer.from(value)];
}

export function fingerprintValue(keys: DeliveryKeys, name: string, value: Uint8Array): string {
  const mac = createHmac('sha256', keys.fingerprintKey);
  for (const part of nameBound(name, value)) mac.update(part);
  return FINGERPRINT_PREFIX + mac.digest('hex');
}

/** Constant-time comparison of two fingerprint label values. */
export function fingerprintsEqual(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

function sealAad(keys: DeliveryKeys, name: string): Buffer {
  return Buffer.from(`vaultsmith-seal-v1\0${keys.environment}\0${name}`, 'utf8');
}

/** The sealed-copy label value, or undefined when the value is too large to carry in a label. */
export function sealValue(keys: DeliveryKeys, name: string, value: Uint8Array): string | undefined {
  if (value.length > SEAL_MAX_BYTES) return undefined;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keys.sealKey, iv);
  cipher.setAAD(sealAad(keys, name));
  const body = Buffer.concat([cipher.update(value), cipher.final()]);
  return SEAL_PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
}

/**
 * Recovers a sealed value and checks it against the fingerprint label; undefined when there is no
 * seal, it was made under other keys or for another name, or it does not match the fingerprint.
 */
export function unsealValue(keys: DeliveryKeys, name: string, labels: Record<string, string>): Buffer | undefined {
  const sealed = labels[LABEL_SEALED];
  if (!sealed?.startsWith(SEAL_PREFIX)) return undefined;
  const raw = Buffer.from(sealed.slice(SEAL_PREFIX.length), 'base64url');
  if (raw.length < 12 + 16) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keys.sealKey, raw.subarray(0, 12));
    decipher.setAAD(sealAad(keys, name));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    const value = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]);
    if (!fingerprintsEqual(fingerprintValue(keys, name, value), labels[LABEL_FINGERPRINT])) {
      value.fill(0);
      return undefined;
    }
    return value;
  } catch {
    return undefined;
  }
}

/** The labels vaultsmith sets on a managed secret (the caller's labels plus the reserved ones). */
export function managedLabels(
  keys: DeliveryKeys,
  name: string,
  value: Uint8Array,
  userLabels: Record<string, string> = {},
): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [key, val] of Object.entries(userLabels)) {
    if (!RESERVED_LABELS.has(key)) labels[key] = val;
  }
  labels[LABEL_MANAGED] = 'true';
  labels[LABEL_ENV] = keys.environment;
  labels[LABEL_FINGERPRINT] = fingerprintValue(keys, name, value);
  const sealed = sealValue(keys, name, value);
  if (sealed) labels[LABEL_SEALED] = sealed;
  return labels;
}

export function isManaged(labels: Record<string, string>): boolean {
  return labels[LABEL_MANAGED] === 'true';
}

/** Labels compared to decide whether a secret's metadata changed (the seal is randomised, so not it). */
export function comparableLabels(labels: Record<string, string>): string {
  const entries = Object.entries(labels)
    .filter(([key]) => key !== LABEL_SEALED)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(entries);
}
