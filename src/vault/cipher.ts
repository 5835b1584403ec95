/**
 * VaultAES256 as Ansible implements it (docs/FORMAT.md, "Cipher"): PBKDF2-HMAC-SHA256 with 10000
 * rounds derives 80 bytes = AES key (32) | HMAC key (32) | CTR IV (16); the plaintext is PKCS7-padded
 * to 16 bytes (even though CTR needs no padding) and encrypted with AES-256-CTR; HMAC-SHA256 covers
 * the ciphertext only. node:crypto only; PBKDF2 runs on the libuv thread pool.
 */
import { createCipheriv, createDecipheriv, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { VaultsmithError } from '../errors.js';

export const KDF_ITERATIONS = 10000;
export const KEY_LENGTH = 32;
export const IV_LENGTH = 16;
export const SALT_LENGTH = 32;
export const AES_BLOCK = 16;

export interface VaultKeys {
  cipherKey: Buffer;
  hmacKey: Buffer;
  iv: Buffer;
  /** The 80 derived bytes the three keys are views of (wiped by wipeKeys). */
  material: Buffer;
}

/** Async PBKDF2 so that many files can derive keys in parallel off the main thread. */
export function deriveKeys(password: Uint8Array, salt: Uint8Array): Promise<VaultKeys> {
  return new Promise((resolve, reject) => {
    pbkdf2(password, salt, KDF_ITERATIONS, 2 * KEY_LENGTH + IV_LENGTH, 'sha256', (err, derived) => {
      if (err) return reject(new VaultsmithError('INTERNAL', `key derivation failed: ${err.message}`, { cause: err }));
      resolve({
        cipherKey: derived.subarray(0, KEY_LENGTH),
        hmacKey: derived.subarray(KEY_LENGTH, 2 * KEY_LENGTH),
        iv: derived.subarray(2 * KEY_LENGTH),
        material: derived,
      });
    });
  });
}

/** Zeroes derived key material once it is no longer needed (all three views share one buffer). */
export function wipeKeys(keys: VaultKeys): void {
  keys.material.fill(0);
}

export function newSalt(): Buffer {
  return randomBytes(SALT_LENGTH);
}

/** PKCS7 padding to the AES block; a full block is added when the length is already aligned. */
export function pkcs7Padding(plaintextLength: number): Buffer {
  const padLength = AES_BLOCK - (plaintextLength % AES_BLOCK);
  return Buffer.alloc(padLength, padLength);
}

/** Length of the plaintext once the PKCS7 padding at the end of `lastBlock` is removed. */
export function unpaddedLength(totalLength: number, lastBlock: Uint8Array): number {
  const padLength = lastBlock[lastBlock.length - 1] ?? 0;
  let ok = padLength >= 1 && padLength <= AES_BLOCK && padLength <= totalLength;
  for (let i = 1; i <= AES_BLOCK; i++) {
    // Check every candidate byte without early exit; the HMAC already authenticated this data.
    if (i <= padLength && lastBlock[lastBlock.length - i] !== padLength) ok = false;
  }
  if (!ok) {
    throw new VaultsmithError('VAULT_FORMAT', 'vault plaintext has invalid PKCS7 padding (the HMAC matched, so the vault was written by a faulty encoder)');
  }
  return totalLength - padLength;
}

export function createVaultCipher(keys: VaultKeys) {
  return createCipheriv('aes-256-ctr', keys.cipherKey, keys.iv);
}

export function createVaultDecipher(keys: VaultKeys) {
  return createDecipheriv('aes-256-ctr', keys.cipherKey, keys.iv);
}

export function createVaultHmac(keys: VaultKeys) {
  return createHmac('sha256', keys.hmacKey);
}

/** Constant-time comparison of the stored and computed HMAC (lengths are public: always 32). */
export function hmacMatches(expected: Uint8Array, actual: Uint8Array): boolean {
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Encrypts one in-memory plaintext; returns the ciphertext and its HMAC. */
export function encryptWithKeys(plaintext: Uint8Array, keys: VaultKeys): { ciphertext: Buffer; hmac: Buffer } {
  const cipher = createVaultCipher(keys);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.update(pkcs7Padding(plaintext.length)), cipher.final()]);
  const hmac = createVaultHmac(keys).update(ciphertext).digest();
  return { ciphertext, hmac };
}

/** Checks the HMAC in constant time; only then decrypts and unpads. Null means "wrong key". */
export function decryptWithKeys(ciphertext: Uint8Array, storedHmac: Uint8Array, keys: VaultKeys): Buffer | null {
  const computed = createVaultHmac(keys).update(ciphertext).digest();
  if (!hmacMatches(storedHmac, computed)) return null;
  const decipher = createVaultDecipher(keys);
  const padded = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  const length = unpaddedLength(padded.length, padded.subarray(padded.length - AES_BLOCK));
  const plaintext = Buffer.from(padded.subarray(0, length));
  padded.fill(0);
  return plaintext;
}
