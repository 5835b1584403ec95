/**
 * In-memory encrypt/decrypt of whole vault texts: format.ts (envelope) + cipher.ts (crypto).
 * See docs/FORMAT.md for the format and the Ansible behaviour each rule mirrors.
 */
import { DecryptionFailedError, VaultsmithError } from '../errors.js';
import { decryptWithKeys, deriveKeys, encryptWithKeys, newSalt, wipeKeys } from './cipher.js';
import { DEFAULT_VAULT_LABEL, formatVaultEnvelopeBytes, isEncryptedVault, parseVaultEnvelope, type VaultEnvelope } from './format.js';
import type { VaultHeader, VaultSecret } from './types.js';

export interface EncryptVaultOptions {
  /** Vault-id label for the header; defaults to `secret.label`. `default`/null write a 1.1 header. */
  label?: string | null;
  /** Fixed salt (tests, reproducible vectors). Default: 32 random bytes, as Ansible. */
  salt?: Uint8Array;
}

export interface DecryptVaultOptions {
  /** Where the vault text came from (file path, key name), used only in messages. */
  source?: string;
}

export interface DecryptedVault {
  plaintext: Buffer;
  header: VaultHeader;
  secret: VaultSecret;
}

export function toBytes(data: Uint8Array | string): Buffer {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export function resolveEncryptLabel(secret: VaultSecret, options: EncryptVaultOptions): string | null {
  return options.label === undefined ? secret.label : options.label;
}

export function checkEncryptInputs(secret: VaultSecret, salt: Uint8Array | undefined): void {
  if (!secret.password || secret.password.length === 0) {
    throw new VaultsmithError('PASSWORD_SOURCE', `the vault password for vault id '${secret.label}' is empty`, {
      hint: 'Ansible refuses empty vault passwords too',
    });
  }
  if (salt !== undefined && salt.length === 0) throw new VaultsmithError('INPUT', 'an empty salt was given for vault encryption');
}

export function alreadyEncryptedError(source?: string): VaultsmithError {
  return new VaultsmithError('ALREADY_ENCRYPTED', `input is already encrypted${source ? `: ${source}` : ''}`, {
    hint: 'use rekey to change its password, or decrypt it first',
  });
}

/** Encrypts bytes (or UTF-8 text) into Ansible Vault text: header, 80-column hex, trailing newline. */
export async function encryptVault(
  plaintext: Uint8Array | string,
  secret: VaultSecret,
  options: EncryptVaultOptions = {},
): Promise<string> {
  return (await encryptVaultBytes(plaintext, secret, options)).toString('latin1');
}

/**
 * encryptVault's result as ASCII bytes, for callers that write files: a vault is ~4x its
 * plaintext, so skipping the string and its conversion back saves two copies of that size.
 */
export async function encryptVaultBytes(
  plaintext: Uint8Array | string,
  secret: VaultSecret,
  options: EncryptVaultOptions = {},
): Promise<Buffer> {
  const bytes = toBytes(plaintext);
  // Ansible refuses to encrypt text that already is a vault (VaultLib.encrypt).
  if (isEncryptedVault(bytes)) throw alreadyEncryptedError();
  checkEncryptInputs(secret, options.salt);
  const label = resolveEncryptLabel(secret, options);
  const salt = options.salt ? Buffer.from(options.salt) : newSalt();
  const keys = await deriveKeys(secret.password, salt);
  try {
    const { ciphertext, hmac } = encryptWithKeys(bytes, keys);
    return formatVaultEnvelopeBytes({ label, salt, hmac, ciphertext });
  } finally {
    wipeKeys(keys);
  }
}

/**
 * Order in which secrets are tried: those whose label matches the header's (or `default` for a
 * header without one) first, then all others, as Ansible does with DEFAULT_VAULT_ID_MATCH off.
 */
export function orderSecrets(secrets: VaultSecret[], headerLabel: string | null): VaultSecret[] {
  const wanted = headerLabel ?? DEFAULT_VAULT_LABEL;
  return [...secrets.filter((s) => s.label === wanted), ...secrets.filter((s) => s.label !== wanted)];
}

export function withSource(error: unknown, source: string | undefined): unknown {
  if (source && error instanceof VaultsmithError && error.code === 'VAULT_FORMAT' && !error.message.startsWith(`${source}: `)) {
    return new VaultsmithError('VAULT_FORMAT', `${source}: ${error.message}`, { cause: error, ...(error.hint ? { hint: error.hint } : {}) });
  }
  return error;
}

/** Decrypts vault text with the first secret whose HMAC matches; see DecryptionFailedError. */
export async function decryptVault(
  vaultText: string | Uint8Array,
  secrets: VaultSecret[],
  options: DecryptVaultOptions = {},
): Promise<DecryptedVault> {
  let envelope;
  try {
    envelope = parseVaultEnvelope(vaultText, options.source);
  } catch (e) {
    throw withSource(e, options.source);
  }
  return decryptEnvelope(envelope, secrets, options);
}

/** decryptVault for an envelope the caller has parsed already (a big vault is not parsed twice). */
export async function decryptEnvelope(envelope: VaultEnvelope, secrets: VaultSecret[], options: DecryptVaultOptions = {}): Promise<DecryptedVault> {
  const { header, salt, hmac, ciphertext } = envelope;
  const tried: string[] = [];
  for (const secret of orderSecrets(secrets, header.label)) {
    tried.push(secret.label);
    if (!secret.password || secret.password.length === 0) continue;
    const keys = await deriveKeys(secret.password, salt);
    try {
      const plaintext = decryptWithKeys(ciphertext, hmac, keys);
      if (plaintext) return { plaintext, header, secret };
    } catch (e) {
      throw withSource(e, options.source);
    } finally {
      wipeKeys(keys);
    }
  }
  throw new DecryptionFailedError(tried, header.label, options.source);
}
