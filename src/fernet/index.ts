/**
 * Fernet and MultiFernet with the behaviour of Python's `cryptography.fernet` (same tokens, same
 * accept/reject decisions, same TTL and clock-skew rules), using node:crypto only.
 *
 * Token = base64url( 0x80 | timestamp (8 bytes, big-endian) | IV (16) | AES-128-CBC ciphertext |
 * HMAC-SHA256 over everything before it ). Key = base64url of 32 bytes: signing key, then encryption key.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { VaultsmithError } from '../errors.js';
import { pythonUrlsafeB64decode, urlsafeB64encode } from './python-base64.js';

/** Python's `_MAX_CLOCK_SKEW`: tokens stamped more than this many seconds in the future are refused. */
export const MAX_CLOCK_SKEW_SECONDS = 60;

const VERSION_BYTE = 0x80;
const HEADER_LENGTH = 1 + 8 + 16; // version, timestamp, IV
const HMAC_LENGTH = 32;
const MAX_TIMESTAMP = (1n << 64n) - 1n;

/**
 * The one error for every bad token and every bad key. Token messages never say which check failed
 * (format, signature, padding, age), so the error is no oracle; nothing secret is ever included.
 */
export class InvalidToken extends VaultsmithError {
  constructor(message = 'invalid Fernet token', options: { hint?: string } = {}) {
    super('INVALID_TOKEN', message, options);
    this.name = 'InvalidToken';
  }
}

const INVALID_KEY_MESSAGE = 'Fernet key must be 32 url-safe base64-encoded bytes';

export type FernetData = Uint8Array | string;
export type FernetToken = Uint8Array | string;

function toBytes(data: FernetData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError('data must be a Uint8Array or a string');
}

function nowSeconds(): bigint {
  return BigInt(Math.floor(Date.now() / 1000));
}

function toTimestamp(value: number | bigint, what: string): bigint {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new RangeError(`${what} must be an integer number of seconds`);
  }
  const big = BigInt(value);
  if (big < 0n || big > MAX_TIMESTAMP) throw new RangeError(`${what} must fit in 8 unsigned bytes`);
  return big;
}

interface UnverifiedToken {
  timestamp: bigint;
  data: Buffer;
}

/** Python's `_get_unverified_token_data`: decodes and checks only the version byte and length. */
function parseToken(token: FernetToken): UnverifiedToken {
  if (typeof token !== 'string' && !(token instanceof Uint8Array)) {
    throw new TypeError('token must be a Uint8Array or a string');
  }
  const data = pythonUrlsafeB64decode(token);
  if (!data || data.length < 9 || data[0] !== VERSION_BYTE) throw new InvalidToken();
  return { timestamp: data.readBigUInt64BE(1), data };
}

/** TTL check as Python does it: expired when `timestamp + ttl < now`, refused when far in the future. */
interface TimeCheck {
  ttl: bigint;
  currentTime: bigint;
}

function toTimeCheck(ttl: number | bigint, currentTime: number | bigint): TimeCheck {
  if (typeof ttl === 'number' && !Number.isSafeInteger(ttl)) throw new RangeError('ttl must be an integer number of seconds');
  return { ttl: BigInt(ttl), currentTime: BigInt(currentTime) };
}

interface KeyPair {
  signingKey: Buffer;
  encryptionKey: Buffer;
}

// Key material lives here rather than on the instance, so helpers shared with MultiFernet stay
// module-private instead of becoming public methods.
const keyPairs = new WeakMap<Fernet, KeyPair>();

function keysOf(fernet: Fernet): KeyPair {
  const pair = keyPairs.get(fernet);
  if (!pair) throw new TypeError('not a Fernet instance');
  return pair;
}

export class Fernet {
  /** `key`: 32 bytes as url-safe base64 (a string or its ASCII bytes), e.g. from `Fernet.generateKey()`. */
  constructor(key: string | Uint8Array) {
    const raw = typeof key === 'string' || key instanceof Uint8Array ? pythonUrlsafeB64decode(key) : null;
    if (!raw || raw.length !== 32) throw new InvalidToken(INVALID_KEY_MESSAGE);
    keyPairs.set(this, { signingKey: Buffer.from(raw.subarray(0, 16)), encryptionKey: Buffer.from(raw.subarray(16)) });
    raw.fill(0);
  }

  /** A new random key as url-safe base64 text (Python returns the same text as bytes). */
  static generateKey(): string {
    return urlsafeB64encode(randomBytes(32));
  }

  encrypt(data: FernetData): string {
    return this.encryptAtTime(data, nowSeconds());
  }

  /** `iv` is for reproducing test vectors only; normal use takes a fresh random IV. */
  encryptAtTime(data: FernetData, currentTime: number | bigint, iv?: Uint8Array): string {
    const timestamp = toTimestamp(currentTime, 'currentTime');
    const initVector = iv === undefined ? randomBytes(16) : Buffer.from(iv);
    if (initVector.length !== 16) throw new RangeError('iv must be 16 bytes');
    return encryptFromParts(this, toBytes(data), timestamp, initVector);
  }

  /** Returns the plaintext; with `ttl` (seconds) refuses tokens older than that or from the future. */
  decrypt(token: FernetToken, ttl?: number | bigint | null): Buffer {
    const parsed = parseToken(token);
    const check = ttl === undefined || ttl === null ? null : toTimeCheck(ttl, nowSeconds());
    return decryptData(this, parsed, check);
  }

  decryptAtTime(token: FernetToken, ttl: number | bigint, currentTime: number | bigint): Buffer {
    if (ttl === undefined || ttl === null) throw new TypeError('decryptAtTime() can only be used with a ttl');
    const parsed = parseToken(token);
    return decryptData(this, parsed, toTimeCheck(ttl, currentTime));
  }

  /**
   * The token's creation time (Unix seconds), after verifying its signature. (Stamps above 2^53
   * would lose precision as a number; real ones are far below.)
   */
  extractTimestamp(token: FernetToken): number {
    const parsed = parseToken(token);
    verifySignature(this, parsed.data);
    return Number(parsed.timestamp);
  }
}

/** Shared with MultiFernet.rotate, which keeps the original timestamp. */
function encryptFromParts(fernet: Fernet, plaintext: Buffer, timestamp: bigint, iv: Buffer): string {
  const cipher = createCipheriv('aes-128-cbc', keysOf(fernet).encryptionKey, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const header = Buffer.alloc(9);
  header[0] = VERSION_BYTE;
  header.writeBigUInt64BE(timestamp, 1);
  const basicParts = Buffer.concat([header, iv, ciphertext]);
  const mac = createHmac('sha256', keysOf(fernet).signingKey).update(basicParts).digest();
  return urlsafeB64encode(Buffer.concat([basicParts, mac]));
}

/** Python's `_decrypt_data`: time checks, then signature, then CBC + PKCS7 padding. */
function decryptData(fernet: Fernet, token: UnverifiedToken, check: TimeCheck | null): Buffer {
  if (check) {
    if (token.timestamp + check.ttl < check.currentTime) throw new InvalidToken();
    if (check.currentTime + BigInt(MAX_CLOCK_SKEW_SECONDS) < token.timestamp) throw new InvalidToken();
  }
  verifySignature(fernet, token.data);
  const { data } = token;
  if (data.length < HEADER_LENGTH + HMAC_LENGTH) throw new InvalidToken();
  const iv = data.subarray(9, HEADER_LENGTH);
  const ciphertext = data.subarray(HEADER_LENGTH, data.length - HMAC_LENGTH);
  try {
    const decipher = createDecipheriv('aes-128-cbc', keysOf(fernet).encryptionKey, iv);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    // Wrong block length or bad PKCS7 padding: indistinguishable from any other bad token.
    throw new InvalidToken();
  }
}

function verifySignature(fernet: Fernet, data: Buffer): void {
  if (data.length < HMAC_LENGTH + 9) throw new InvalidToken();
  const signed = data.subarray(0, data.length - HMAC_LENGTH);
  const expected = createHmac('sha256', keysOf(fernet).signingKey).update(signed).digest();
  if (!timingSafeEqual(expected, data.subarray(data.length - HMAC_LENGTH))) throw new InvalidToken();
}

/**
 * Several keys for rotation: the first encrypts, every key is tried to decrypt (`FERNET_KEYS`
 * convention of django-fernet-fields: newest first).
 */
export class MultiFernet {
  readonly #fernets: Fernet[];

  constructor(fernets: Iterable<Fernet>) {
    this.#fernets = [...fernets];
    if (this.#fernets.length === 0) throw new RangeError('MultiFernet requires at least one Fernet instance');
  }

  get size(): number {
    return this.#fernets.length;
  }

  encrypt(data: FernetData): string {
    return this.encryptAtTime(data, nowSeconds());
  }

  encryptAtTime(data: FernetData, currentTime: number | bigint): string {
    return this.#fernets[0]!.encryptAtTime(data, currentTime);
  }

  /** Re-encrypts a token under the first key, keeping its original timestamp (no TTL applied). */
  rotate(token: FernetToken): string {
    const parsed = parseToken(token);
    for (const fernet of this.#fernets) {
      let plaintext: Buffer;
      try {
        plaintext = decryptData(fernet, parsed, null);
      } catch (e) {
        if (e instanceof InvalidToken) continue;
        throw e;
      }
      try {
        return encryptFromParts(this.#fernets[0]!, plaintext, parsed.timestamp, randomBytes(16));
      } finally {
        plaintext.fill(0);
      }
    }
    throw new InvalidToken();
  }

  decrypt(token: FernetToken, ttl?: number | bigint | null): Buffer {
    return this.tryEach((fernet) => fernet.decrypt(token, ttl));
  }

  decryptAtTime(token: FernetToken, ttl: number | bigint, currentTime: number | bigint): Buffer {
    return this.tryEach((fernet) => fernet.decryptAtTime(token, ttl, currentTime));
  }

  /** The token's timestamp, verified against whichever key signed it. */
  extractTimestamp(token: FernetToken): number {
    return this.tryEach((fernet) => fernet.extractTimestamp(token));
  }

  private tryEach<T>(attempt: (fernet: Fernet) => T): T {
    for (const fernet of this.#fernets) {
      try {
        return attempt(fernet);
      } catch (e) {
        if (!(e instanceof InvalidToken)) throw e;
      }
    }
    throw new InvalidToken();
  }
}

/** Builds a Fernet for one key or a MultiFernet for several (first key encrypts). */
export function fernetFromKeys(keys: readonly string[]): MultiFernet {
  return new MultiFernet(keys.map((key) => new Fernet(key)));
}
