/**
 * Streaming encrypt/decrypt for large vaults with memory bounded by the chunk size, not the file
 * size. The format puts the HMAC before the ciphertext, so both directions make two passes
 * (docs/FORMAT.md, "Streaming"):
 * - encrypt to a stream: pass 1 computes the HMAC, pass 2 re-encrypts and writes (and checks the
 *   input did not change in between); encrypt to a file makes one pass and patches the HMAC into
 *   its own temp file at the end;
 * - decrypt: pass 1 decodes the double hex and verifies the HMAC while keeping the (non-secret)
 *   ciphertext aside, in memory when small or in a temp file; pass 2 decrypts it. No plaintext is
 *   written before the whole file is authenticated.
 */
import { randomBytes } from 'node:crypto';
import fs, { constants as fsc, createWriteStream, promises as fsp, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { DecryptionFailedError, VaultsmithError } from '../errors.js';
import { ioError } from '../internal/safe-write.js';
import {
  AES_BLOCK,
  createVaultCipher,
  createVaultDecipher,
  createVaultHmac,
  deriveKeys,
  hmacMatches,
  newSalt,
  pkcs7Padding,
  unpaddedLength,
  wipeKeys,
  type VaultKeys,
} from './cipher.js';
import { alreadyEncryptedError, checkEncryptInputs, orderSecrets, resolveEncryptLabel, withSource, type EncryptVaultOptions } from './codec.js';
import {
  checkCiphertextLength,
  decodeHex,
  formatVaultHeader,
  innerPrefix,
  notEncryptedError,
  OuterHexWriter,
  parseVaultHeader,
  printable,
  VAULT_MAGIC,
} from './format.js';
import { hexKernels, KERNEL_SLICE, leaseReadAreas, READ_AREA, releaseReadAreas } from './hex-kernels.js';
import type { VaultHeader, VaultSecret } from './types.js';

/** Read size. Small enough to keep RSS low, large enough to amortise per-call costs. */
const READ_CHUNK = 512 << 10;
/** Ciphertext up to this size stays in memory between the decrypt passes; beyond, a temp file. */
const IN_MEMORY_CIPHERTEXT = 8 << 20;
/** Vault text is ~4x its plaintext, so it is read in larger chunks. */
const VAULT_READ_CHUNK = READ_AREA;
const MAX_HEADER_LINE = 4096;

export interface StreamDecryptOptions {
  /** Name for messages (defaults to the input path). */
  source?: string;
}

/**
 * Writes with backpressure: resolves at once unless the stream asks to wait for 'drain'.
 * `onWritten` runs once the stream is done with `data` (written or failed), so it may be reused.
 */
function writeTo(output: Writable, data: Uint8Array, onWritten?: () => void): Promise<void> {
  if (output.destroyed) {
    onWritten?.();
    return Promise.reject(output.errored ?? new VaultsmithError('IO', 'the output was closed before all data was written'));
  }
  if (data.length === 0) {
    onWritten?.();
    return Promise.resolve();
  }
  if (output.write(data, onWritten && (() => onWritten()))) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (error?: unknown) => {
      output.off('drain', onDrain);
      output.off('error', onError);
      output.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => done();
    const onError = (e: unknown) => done(e);
    const onClose = () => done(new VaultsmithError('IO', 'the output was closed before all data was written'));
    output.once('drain', onDrain);
    output.once('error', onError);
    output.once('close', onClose);
  });
}

/**
 * Reads a file in chunks, keeping the next read in flight while the caller works on the current
 * chunk (two buffers, explicit positions). Each yielded view is valid until the next iteration.
 * `source` is a path (opened and closed here) or a handle the caller keeps (read from position 0).
 */
async function* readChunks(source: string | fsp.FileHandle, chunkSize = READ_CHUNK, into?: readonly [Buffer, Buffer]): AsyncGenerator<Buffer> {
  const name = typeof source === 'string' ? source : 'a temp file';
  let fh: fsp.FileHandle;
  try {
    fh = typeof source === 'string' ? await fsp.open(source, 'r') : source;
  } catch (e) {
    throw ioError('cannot read', name, e);
  }
  const buffers = into ?? ([Buffer.allocUnsafe(chunkSize), Buffer.allocUnsafe(chunkSize)] as const);
  const readInto = (index: 0 | 1, position: number) =>
    fh.read(buffers[index], 0, chunkSize, position).then(
      (r) => r.bytesRead,
      (e: unknown) => {
        throw ioError('cannot read', name, e);
      },
    );
  let current: 0 | 1 = 0;
  let position = 0;
  let next: Promise<number> | null = readInto(0, 0);
  try {
    for (;;) {
      const got: number = await next;
      next = null;
      if (got === 0) return;
      position += got;
      const chunk = buffers[current].subarray(0, got);
      current = current === 0 ? 1 : 0;
      next = readInto(current, position);
      yield chunk;
    }
  } finally {
    // Let an abandoned read finish before closing the handle.
    if (next) await next.catch(() => undefined);
    if (typeof source === 'string') await fh.close().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// Encryption
// ---------------------------------------------------------------------------------------------

/**
 * A few equal output buffers handed out in turn and given back once the stream has written them:
 * the double hex of a large file (4x its size) goes through warm, reused memory instead of fresh
 * allocations, whose page faults and garbage collection cost more than the encoding itself.
 * Waiting for a free buffer is also the backpressure.
 */
class RecycledBuffers {
  private readonly free: Buffer[] = [];
  private readonly waiting: ((buffer: Buffer) => void)[] = [];
  private made = 0;

  constructor(
    readonly size: number,
    private readonly count: number,
  ) {}

  take(): Promise<Buffer> {
    const buffer = this.free.pop();
    if (buffer) return Promise.resolve(buffer);
    if (this.made < this.count) {
      this.made++;
      return Promise.resolve(Buffer.allocUnsafe(this.size));
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  give(buffer: Buffer): void {
    const next = this.waiting.shift();
    if (next) next(buffer);
    else this.free.push(buffer);
  }
}

/**
 * Ciphertext chunk → its outer hex, written to `output`. Buffers are recycled only for a file
 * stream of our own, which is done with a chunk when its write callback runs; other streams (a
 * PassThrough, say) may keep a reference to each chunk, so they get fresh ones.
 */
function hexSink(output: Writable, writer: OuterHexWriter, recycle: boolean): CiphertextSink {
  if (!recycle) return (ciphertext) => writeTo(output, writer.pushCiphertext(ciphertext));
  const pool = new RecycledBuffers(OuterHexWriter.encodedLengthBound(READ_CHUNK + 2 * AES_BLOCK), 4);
  return async (ciphertext) => {
    if (OuterHexWriter.encodedLengthBound(ciphertext.length) > pool.size) return writeTo(output, writer.pushCiphertext(ciphertext));
    const buffer = await pool.take();
    const length = writer.pushCiphertextInto(ciphertext, buffer);
    return writeTo(output, buffer.subarray(0, length), () => pool.give(buffer));
  };
}

type CiphertextSink = (ciphertext: Buffer) => Promise<void>;

/**
 * AES-256-CTR and the HMAC over plaintext pushed in order; each ciphertext chunk, then the padded
 * tail, goes to `sink`. `push` encrypts before it returns, so the caller may reuse or wipe the
 * plaintext at once.
 */
function plaintextEncryptor(keys: VaultKeys, sink: CiphertextSink | null) {
  const cipher = createVaultCipher(keys);
  const hmac = createVaultHmac(keys);
  let length = 0;
  return {
    push(plaintext: Uint8Array): Promise<void> {
      length += plaintext.length;
      const ciphertext = cipher.update(plaintext);
      hmac.update(ciphertext);
      return sink ? sink(ciphertext) : Promise.resolve();
    },
    /** Pads, encrypts the tail and returns the HMAC of all the ciphertext. */
    async finish(): Promise<Buffer> {
      const tail = Buffer.concat([cipher.update(pkcs7Padding(length)), cipher.final()]);
      hmac.update(tail);
      if (sink) await sink(tail);
      return hmac.digest();
    },
  };
}

/**
 * One encryption pass over the plaintext file: returns the HMAC of the ciphertext and Ansible's
 * is_encrypted verdict on the input; hands each ciphertext chunk (padding included) to `sink`.
 */
async function encryptPass(inputPath: string, keys: VaultKeys, sink: CiphertextSink | null): Promise<{ hmac: Buffer; looksEncrypted: boolean }> {
  const encryptor = plaintextEncryptor(keys, sink);
  let first = true;
  let startsWithMagic = false;
  let ascii = true;
  for await (const chunk of readChunks(inputPath)) {
    if (first) startsWithMagic = chunk.toString('latin1', 0, VAULT_MAGIC.length) === VAULT_MAGIC;
    first = false;
    if (startsWithMagic && ascii) {
      for (let i = 0; i < chunk.length; i++) if (chunk[i]! > 0x7f) ascii = false;
    }
    await encryptor.push(chunk);
  }
  return { hmac: await encryptor.finish(), looksEncrypted: startsWithMagic && ascii };
}

interface EncryptPlan {
  salt: Buffer;
  keys: VaultKeys;
  /** Header line plus the outer hex of hex(salt) \n hex(hmac) \n, wrapped; fixed length. */
  head: (hmac: Buffer) => Buffer;
}

async function planEncryption(secret: VaultSecret, options: EncryptVaultOptions): Promise<EncryptPlan> {
  checkEncryptInputs(secret, options.salt);
  const headerLine = Buffer.from(`${formatVaultHeader(resolveEncryptLabel(secret, options))}\n`, 'latin1');
  const salt = options.salt ? Buffer.from(options.salt) : newSalt();
  const keys = await deriveKeys(secret.password, salt);
  return { salt, keys, head: (hmac) => Buffer.concat([headerLine, new OuterHexWriter().push(innerPrefix(salt, hmac))]) };
}

/** The writer state after the head: its column depends only on the salt length. */
function writerAfterHead(plan: EncryptPlan): OuterHexWriter {
  const writer = new OuterHexWriter();
  writer.push(innerPrefix(plan.salt, Buffer.alloc(32)));
  return writer;
}

/**
 * Encrypts the file at `inputPath` into vault text written to `output` (which is not ended).
 * Byte-identical to encryptVault for the same salt. The HMAC comes before the ciphertext, so the
 * input is read twice; nothing is written if it cannot be read or already is a vault.
 */
export async function encryptVaultStream(
  inputPath: string,
  output: Writable,
  secret: VaultSecret,
  options: EncryptVaultOptions = {},
): Promise<void> {
  const plan = await planEncryption(secret, options);
  try {
    const first = await encryptPass(inputPath, plan.keys, null);
    if (first.looksEncrypted) throw alreadyEncryptedError(inputPath);
    await writeTo(output, plan.head(first.hmac));
    const writer = writerAfterHead(plan);
    const second = await encryptPass(inputPath, plan.keys, hexSink(output, writer, false));
    await writeTo(output, writer.finish());
    if (!hmacMatches(first.hmac, second.hmac)) throw inputChanged(inputPath);
  } finally {
    wipeKeys(plan.keys);
  }
}

function inputChanged(inputPath: string): VaultsmithError {
  return new VaultsmithError('CONFLICT', `${inputPath} changed while it was being encrypted; the output is invalid`, {
    hint: 'run the command again once nothing else writes the file',
  });
}

/**
 * Single-pass encryption into a file we own: writes a placeholder HMAC, lets `encrypt` stream the
 * ciphertext through the hex sink (returning its HMAC), and returns the real head to be written over
 * the placeholder (same length) at position 0. `output` is writeFileAtomically's fs.WriteStream, so
 * output buffers are recycled (see hexSink).
 */
async function encryptIntoOwnedFile(
  output: Writable,
  secret: VaultSecret,
  options: EncryptVaultOptions,
  encrypt: (keys: VaultKeys, sink: CiphertextSink) => Promise<Buffer>,
): Promise<Patch[]> {
  const plan = await planEncryption(secret, options);
  try {
    await writeTo(output, plan.head(Buffer.alloc(32)));
    const writer = writerAfterHead(plan);
    const hmac = await encrypt(plan.keys, hexSink(output, writer, true));
    await writeTo(output, writer.finish());
    return [{ position: 0, data: plan.head(hmac) }];
  } finally {
    wipeKeys(plan.keys);
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding vault text incrementally
// ---------------------------------------------------------------------------------------------

const HEX_VALUE: Int8Array = (() => {
  const table = new Int8Array(256).fill(-1);
  for (let d = 0; d < 10; d++) table[0x30 + d] = d;
  for (let d = 0; d < 6; d++) {
    table[0x41 + d] = 10 + d;
    table[0x61 + d] = 10 + d;
  }
  return table;
})();

/**
 * Two outer hex characters (read little-endian as one uint16) → the value of the inner hex digit
 * they encode, or 255. Inner hex digits are 0x30-0x39, 0x41-0x46, 0x61-0x66, so their outer form
 * contains only decimal digits.
 */
const INNER_DIGIT_OF_PAIR: Uint8Array = (() => {
  const table = new Uint8Array(65536).fill(255);
  for (const digit of '0123456789abcdefABCDEF') {
    const outer = digit.charCodeAt(0).toString(16);
    table[outer.charCodeAt(0) | (outer.charCodeAt(1) << 8)] = parseInt(digit, 16);
  }
  return table;
})();

const enum Phase {
  Header,
  Salt,
  Hmac,
  Ciphertext,
}

function formatError(message: string): VaultsmithError {
  return new VaultsmithError('VAULT_FORMAT', message);
}

/**
 * Incremental decoder for vault text: header line, then outer hex (line breaks skipped) whose inner
 * bytes are `hex(salt) \n hex(hmac) \n hex(ciphertext)`. Lines of exactly 80 characters in the
 * ciphertext take a table-driven fast path; anything else goes through the general per-character
 * path, which also produces the precise error messages.
 */
class VaultTextDecoder {
  header: VaultHeader | null = null;
  salt: Buffer | null = null;
  hmac: Buffer | null = null;
  ciphertextLength = 0;
  private phase = Phase.Header;
  private headerBytes: number[] = [];
  private prefixChars: string[] = [];
  private outerHigh = -1;
  private innerHigh = -1;
  private line = 1;
  private column = 0;
  private bodySeen = false;
  private shifted = new Uint8Array(VAULT_READ_CHUNK + 2);

  constructor(private readonly source: string) {}

  /**
   * Decodes one chunk; returns the ciphertext bytes it completed, in `into` when that is given and
   * large enough (a recycled buffer), else in a fresh buffer.
   */
  push(data: Buffer, into?: Buffer): Buffer {
    const needed = (data.length >> 2) + 2;
    const out = into && into.length >= needed ? into : Buffer.allocUnsafe(needed);
    let written = 0;
    let i = 0;
    const n = data.length;
    if (this.phase === Phase.Header) i = this.readHeader(data);

    // Views for the JS fast path, made on first use: even-offset lines read from `even`, odd-offset
    // ones from `odd` (a copy shifted by one byte, as typed arrays need aligned offsets).
    let even: Uint16Array | null = null;
    let odd: Uint16Array | null = null;
    const useJsFastPath = n - i > 160;

    const kernels = n - i > 4096 ? hexKernels() : null;
    const inKernelMemory = kernels !== null && data.buffer === kernels.memory.buffer;
    let kernelSkipUntil = -1;
    while (i < n) {
      // Fastest path: runs of whole 80-column "\n"-terminated lines through the WebAssembly kernel.
      if (
        kernels !== null &&
        i >= kernelSkipUntil &&
        this.phase === Phase.Ciphertext &&
        this.column === 0 &&
        this.outerHigh < 0 &&
        this.innerHigh < 0 &&
        i + 80 < n &&
        data[i + 80] === 0x0a
      ) {
        let consumed: number;
        if (inKernelMemory) {
          consumed = kernels.decode(data.byteOffset + i, n - i);
        } else {
          const slice = Math.min(n - i, KERNEL_SLICE);
          kernels.memory.set(data.subarray(i, i + slice), kernels.inputOffset);
          consumed = kernels.decode(kernels.inputOffset, slice);
        }
        if (consumed > 0) {
          const lines = consumed / 81;
          out.set(kernels.memory.subarray(kernels.outputOffset, kernels.outputOffset + lines * 20), written);
          written += lines * 20;
          i += consumed;
          this.line += lines;
          this.bodySeen = true;
          continue;
        }
        // This line has a bad character: the paths below report it precisely.
        kernelSkipUntil = i + 81;
      }
      const b = data[i]!;
      // Fast path: a whole 80-column line of ciphertext (20 bytes) ending in \n or \r\n.
      if (
        useJsFastPath &&
        this.phase === Phase.Ciphertext &&
        this.column === 0 &&
        this.outerHigh < 0 &&
        this.innerHigh < 0 &&
        i + 80 < n &&
        (data[i + 80] === 0x0a || (data[i + 80] === 0x0d && i + 81 < n && data[i + 81] === 0x0a))
      ) {
        if (even === null || odd === null) {
          const aligned = data.byteOffset % 2 === 0 ? data : Buffer.from(data);
          even = new Uint16Array(aligned.buffer, aligned.byteOffset, n >> 1);
          if (this.shifted.length < n) this.shifted = new Uint8Array(n + 2);
          this.shifted.set(data.subarray(1));
          odd = new Uint16Array(this.shifted.buffer, 0, (n - 1) >> 1);
        }
        const view = (i & 1) === 0 ? even : odd;
        let k = i >> 1;
        let bad = 0;
        for (let j = 0; j < 20; j++, k += 2) {
          const high = INNER_DIGIT_OF_PAIR[view[k]!]!;
          const low = INNER_DIGIT_OF_PAIR[view[k + 1]!]!;
          bad |= high | low;
          out[written + j] = (high << 4) | low;
        }
        if (bad < 16) {
          written += 20;
          this.bodySeen = true;
          i += data[i + 80] === 0x0a ? 81 : 82;
          this.line++;
          continue;
        }
        // Fall through: the general path reports the exact position of the bad character.
      }
      i++;
      if (b === 0x0a) {
        this.line++;
        this.column = 0;
        continue;
      }
      if (b === 0x0d) {
        this.column = 0;
        continue;
      }
      this.column++;
      const value = HEX_VALUE[b]!;
      if (value < 0) {
        throw formatError(
          `vault body is not hexadecimal: unexpected character '${printable(String.fromCharCode(b))}' on line ${this.line}, column ${this.column}`,
        );
      }
      this.bodySeen = true;
      if (this.outerHigh < 0) {
        this.outerHigh = value;
        continue;
      }
      const inner = (this.outerHigh << 4) | value;
      this.outerHigh = -1;
      if (this.phase !== Phase.Ciphertext) {
        this.pushPrefix(inner);
        continue;
      }
      const digit = HEX_VALUE[inner]!;
      if (digit < 0) {
        throw formatError(
          `vault ciphertext is not hexadecimal: the hex pair ending on line ${this.line}, column ${this.column} decodes to '${printable(String.fromCharCode(inner))}' (a hex digit missing or extra before it shifts every pair after it)`,
        );
      }
      if (this.innerHigh < 0) {
        this.innerHigh = digit;
      } else {
        out[written++] = (this.innerHigh << 4) | digit;
        this.innerHigh = -1;
      }
    }
    this.ciphertextLength += written;
    return out.subarray(0, written);
  }

  private readHeader(data: Buffer): number {
    let i = 0;
    while (i < data.length) {
      const b = data[i]!;
      if (b === 0x0a || b === 0x0d) {
        this.finishHeader();
        // Skip the \n of a \r\n header ending (a lone \r also ends the line, as in splitlines()).
        return i + 1;
      }
      if (b > 0x7f) throw formatError(`vault header contains a non-ASCII byte`);
      this.headerBytes.push(b);
      if (this.headerBytes.length === VAULT_MAGIC.length && Buffer.from(this.headerBytes).toString('latin1') !== VAULT_MAGIC) {
        throw notEncryptedError(this.source);
      }
      if (this.headerBytes.length > MAX_HEADER_LINE) throw formatError(`vault header line is longer than ${MAX_HEADER_LINE} characters`);
      i++;
    }
    return i;
  }

  private finishHeader(): void {
    const line = Buffer.from(this.headerBytes).toString('latin1');
    if (!line.startsWith(VAULT_MAGIC)) throw notEncryptedError(this.source);
    this.header = parseVaultHeader(line);
    this.phase = Phase.Salt;
    this.line = 2;
  }

  private pushPrefix(inner: number): void {
    if (inner !== 0x0a) {
      this.prefixChars.push(String.fromCharCode(inner));
      return;
    }
    const hex = this.prefixChars.join('');
    this.prefixChars = [];
    if (this.phase === Phase.Salt) {
      this.salt = decodeHex(hex, 'vault salt');
      if (this.salt.length === 0) throw formatError('vault salt is empty');
      this.phase = Phase.Hmac;
    } else {
      this.hmac = decodeHex(hex, 'vault HMAC');
      if (this.hmac.length !== 32) throw formatError(`vault HMAC is ${this.hmac.length} bytes, expected 32 (HMAC-SHA256)`);
      this.phase = Phase.Ciphertext;
    }
  }

  /** Checks the end state: everything present, even digit counts, whole AES blocks. */
  finish(): { header: VaultHeader; salt: Buffer; hmac: Buffer } {
    if (this.phase === Phase.Header) {
      if (this.headerBytes.length < VAULT_MAGIC.length) throw notEncryptedError(this.source);
      this.finishHeader();
    }
    if (!this.bodySeen) throw formatError('vault has a header but no body; the vault is truncated');
    if (this.outerHigh >= 0) {
      throw formatError('vault body has an odd number of hex digits; the vault is truncated or damaged');
    }
    if (this.phase !== Phase.Ciphertext) {
      throw formatError(
        `vault payload is missing its ${this.phase === Phase.Salt ? 'HMAC and ciphertext lines' : 'ciphertext line'}; the vault is truncated or damaged`,
      );
    }
    if (this.innerHigh >= 0) {
      throw formatError('vault ciphertext has an odd number of hex digits; the vault is truncated or damaged');
    }
    checkCiphertextLength(this.ciphertextLength);
    return { header: this.header!, salt: this.salt!, hmac: this.hmac! };
  }
}

// ---------------------------------------------------------------------------------------------
// Decryption
// ---------------------------------------------------------------------------------------------

/**
 * Where pass 1 keeps the ciphertext for pass 2: memory when small, else an anonymous temp file
 * (created 0600, then unlinked at once and used through its open handle), so nothing is left on
 * disk whatever ends the process: a signal, SIGKILL, or `view | head` closing the pipe.
 */
class CiphertextStash {
  private chunks: Buffer[] = [];
  private size = 0;
  private file: { handle: fsp.FileHandle } | null = null;

  /** One temp-file write stays in flight while the caller decodes the next chunk. */
  private pendingWrite: Promise<unknown> = Promise.resolve();
  /** The buffer behind the write in flight, and one whose write has finished (reusable). */
  private inFlight: Buffer | null = null;
  private spareBuffer: Buffer | null = null;

  /**
   * A buffer the stash no longer needs (once it spills to a file, chunks are done with when their
   * write finishes), for the decoder to fill next instead of allocating; null if none.
   */
  spare(): Buffer | null {
    const buffer = this.spareBuffer;
    this.spareBuffer = null;
    return buffer;
  }

  /**
   * Takes ownership of `chunk` (it must not be reused by the caller). `backing` is the whole
   * buffer `chunk` is a view of, if it may be handed out again by spare().
   */
  async add(chunk: Buffer, backing?: Buffer): Promise<void> {
    if (chunk.length === 0) return;
    if (!this.file && this.size + chunk.length > IN_MEMORY_CIPHERTEXT) {
      const dir = await fsp.mkdtemp(join(tmpdir(), 'vaultsmith-ct-'));
      let handle: fsp.FileHandle;
      try {
        handle = await fsp.open(join(dir, 'ciphertext'), fsc.O_RDWR | fsc.O_CREAT | fsc.O_EXCL, 0o600);
      } finally {
        await fsp.rm(dir, { recursive: true, force: true });
      }
      this.file = { handle };
      await handle.writeFile(Buffer.concat(this.chunks));
      this.chunks = [];
    }
    this.size += chunk.length;
    if (this.file) {
      await this.pendingWrite;
      this.spareBuffer = this.inFlight;
      this.inFlight = backing ?? null;
      this.pendingWrite = this.file.handle.write(chunk);
    } else {
      this.chunks.push(chunk);
    }
  }

  async *read(): AsyncGenerator<Buffer> {
    if (!this.file) {
      yield* this.chunks;
      return;
    }
    await this.pendingWrite;
    yield* readChunks(this.file.handle);
  }

  async dispose(): Promise<void> {
    this.chunks = [];
    if (this.file) {
      await this.pendingWrite.catch(() => undefined);
      await this.file.handle.close().catch(() => undefined);
      this.file = null;
    }
  }
}

interface Candidate {
  secret: VaultSecret;
  keys: VaultKeys;
  hmac: ReturnType<typeof createVaultHmac>;
}

/**
 * Decrypts the vault file at `inputPath` and writes the plaintext to `output` (which is not ended).
 * The HMAC is verified over the whole file before the first plaintext byte is written.
 */
export async function decryptVaultStream(
  inputPath: string,
  output: Writable,
  secrets: VaultSecret[],
  options: StreamDecryptOptions = {},
): Promise<{ header: VaultHeader; secret: VaultSecret }> {
  const source = options.source ?? inputPath;
  const decoder = new VaultTextDecoder(source);
  const stash = new CiphertextStash();
  let candidates: Candidate[] | null = null;
  let parsed: { header: VaultHeader; salt: Buffer; hmac: Buffer };
  try {
    // Pass 1: decode, HMAC with every candidate secret, stash the ciphertext. The file is read
    // straight into the kernels' memory when it is free.
    const readAreas = leaseReadAreas();
    try {
      for await (const chunk of readChunks(inputPath, VAULT_READ_CHUNK, readAreas ?? undefined)) {
        const spare = stash.spare();
        const ciphertext = decoder.push(chunk, spare ?? undefined);
        if (ciphertext.length === 0) continue;
        candidates ??= await deriveCandidates(secrets, decoder.header!, decoder.salt!);
        for (const c of candidates) c.hmac.update(ciphertext);
        // A buffer of its own (not a slice of Node's shared small-buffer pool) may be reused.
        const own = ciphertext.buffer.byteLength >= 64 << 10 ? Buffer.from(ciphertext.buffer, 0, ciphertext.buffer.byteLength) : undefined;
        await stash.add(ciphertext, own);
      }
      parsed = decoder.finish();
      candidates ??= await deriveCandidates(secrets, parsed.header, parsed.salt);
    } catch (e) {
      throw withSource(e, source);
    } finally {
      // readChunks has awaited its last read by now.
      if (readAreas) releaseReadAreas();
    }
    const { header, hmac: storedHmac } = parsed;
    const winner = candidates.find((c) => hmacMatches(storedHmac, c.hmac.digest()));
    if (!winner) throw new DecryptionFailedError(orderSecrets(secrets, header.label).map((s) => s.label), header.label, source);

    // Pass 2: decrypt the authenticated ciphertext. Its length is known now, so everything before
    // the last block (which holds the padding) is written as it comes, without copies.
    const decipher = createVaultDecipher(winner.keys);
    const bodyEnd = decoder.ciphertextLength - AES_BLOCK;
    const lastParts: Buffer[] = [];
    let position = 0;
    for await (const ciphertext of stash.read()) {
      const plain = decipher.update(ciphertext);
      const body = Math.max(0, Math.min(plain.length, bodyEnd - position));
      position += plain.length;
      if (body < plain.length) {
        lastParts.push(Buffer.from(plain.subarray(body)));
        plain.fill(0, body);
      }
      await writeTo(output, body === plain.length ? plain : plain.subarray(0, body));
    }
    lastParts.push(decipher.final());
    const last = Buffer.concat(lastParts);
    for (const part of lastParts) part.fill(0);
    let length: number;
    try {
      length = unpaddedLength(decoder.ciphertextLength, last);
    } catch (e) {
      throw withSource(e, source);
    }
    // A copy goes to the stream, which may still hold it after we wipe `last`.
    await writeTo(output, Buffer.from(last.subarray(0, length - (decoder.ciphertextLength - last.length))));
    last.fill(0);
    return { header, secret: winner.secret };
  } finally {
    for (const c of candidates ?? []) wipeKeys(c.keys);
    await stash.dispose();
  }
}

async function deriveCandidates(secrets: VaultSecret[], header: VaultHeader, salt: Buffer): Promise<Candidate[]> {
  const usable = orderSecrets(secrets, header.label).filter((s) => s.password && s.password.length > 0);
  // Key derivations run in parallel on the thread pool.
  return Promise.all(
    usable.map(async (secret) => {
      const keys = await deriveKeys(secret.password, salt);
      return { secret, keys, hmac: createVaultHmac(keys) };
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Files, written atomically
// ---------------------------------------------------------------------------------------------

/** Written bytes beyond which a background datasync is started (see startEarlyWriteback). */
const WRITEBACK_STEP = 16 << 20;

/**
 * Big outputs: while the caller keeps producing, flushes what is already written with datasync on
 * the thread pool, so the disk works in parallel with the CPU and the final fsync only has the tail
 * left (it was ~0.1 s for a 256 MiB vault). Errors are left to the final fsync, which reports them.
 */
function startEarlyWriteback(handle: fsp.FileHandle, stream: { bytesWritten: number }): { stop(): Promise<void> } {
  let synced = 0;
  let inFlight: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (inFlight || stream.bytesWritten - synced < WRITEBACK_STEP) return;
    const upTo = stream.bytesWritten;
    inFlight = handle.datasync().then(
      () => {
        synced = upTo;
        inFlight = null;
      },
      () => {
        inFlight = null;
      },
    );
  }, 20);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
    },
  };
}

/**
 * Streams into a 0600 temp file next to `outputPath`, fsyncs, gives it the existing target's mode
 * and owner, and renames it over the target. On any failure the target is untouched and the temp
 * file removed. `outputPath` may be the input of `produce`: it is only replaced at the end.
 */
interface Patch {
  position: number;
  data: Buffer;
}

async function writeFileAtomically(outputPath: string, produce: (output: Writable) => Promise<Patch[] | void>): Promise<void> {
  const dir = dirname(outputPath);
  let existing: Stats | undefined;
  try {
    existing = await fsp.stat(outputPath);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError('cannot stat', outputPath, e);
  }
  if (existing && !existing.isFile()) throw new VaultsmithError('IO', `${outputPath} is not a regular file`);
  const tmp = join(dir, `.${basename(outputPath)}.vs-${randomBytes(6).toString('hex')}.tmp`);
  let created = false;
  try {
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
    } catch (e) {
      throw ioError('cannot write', outputPath, e);
    }
    created = true;
    // The FileHandle owns the descriptor. A write stream closes its fd on destroy() even with
    // autoClose: false, and a second close by the handle could then close a descriptor number
    // another concurrent operation has reopened meanwhile (seen as a rare hang of the encryption
    // after a refused one), so the stream gets a close that does nothing.
    const stream = createWriteStream('', {
      fd: handle.fd,
      autoClose: false,
      highWaterMark: 8 << 20,
      fs: { open: fs.open, write: fs.write, writev: fs.writev, close: (_fd: number, done: (error: Error | null) => void) => done(null) },
    });
    let streamError: unknown;
    stream.on('error', (e) => (streamError ??= e));
    const writeback = startEarlyWriteback(handle, stream);
    try {
      const patches = await produce(stream);
      await new Promise<void>((resolve, reject) => {
        if (streamError) return reject(streamError);
        stream.once('error', reject);
        stream.end(() => (streamError ? reject(streamError) : resolve()));
      });
      await writeback.stop();
      for (const patch of patches ?? []) await handle.write(patch.data, 0, patch.data.length, patch.position);
      await handle.sync();
      if (existing) {
        if (process.getuid?.() === 0 || existing.uid === process.getuid?.()) {
          await handle.chown(existing.uid, existing.gid).catch(() => undefined);
        }
        // After chown, which may clear set-id bits.
        await handle.chmod(existing.mode & 0o7777);
      }
    } finally {
      await writeback.stop();
      stream.destroy();
      await handle.close().catch(() => undefined);
    }
    try {
      await fsp.rename(tmp, outputPath);
    } catch (e) {
      throw ioError('cannot write', outputPath, e);
    }
    created = false;
    const dirHandle = await fsp.open(dir, fsc.O_RDONLY).catch(() => undefined);
    await dirHandle?.sync().catch(() => undefined);
    await dirHandle?.close().catch(() => undefined);
  } catch (e) {
    if (e instanceof VaultsmithError) throw e;
    throw ioError('cannot write', outputPath, e);
  } finally {
    if (created) await fsp.unlink(tmp).catch(() => undefined);
  }
}

/** Encrypts `inputPath` into `outputPath` atomically (input may equal output). */
export async function encryptVaultFile(
  inputPath: string,
  outputPath: string,
  secret: VaultSecret,
  options: EncryptVaultOptions = {},
): Promise<void> {
  // The temp file is ours, so one pass suffices: the HMAC is patched in at the end.
  await writeFileAtomically(outputPath, (output) =>
    encryptIntoOwnedFile(output, secret, options, async (keys, sink) => {
      const result = await encryptPass(inputPath, keys, sink);
      if (result.looksEncrypted) throw alreadyEncryptedError(inputPath);
      return result.hmac;
    }),
  );
}

/**
 * Re-encrypts the vault file at `inputPath` under `newSecret` into `outputPath` atomically (input
 * may equal output), with memory bounded like decryption: the old HMAC is verified over the whole
 * file first (decryptVaultStream), then each decrypted chunk is encrypted under the new keys (fresh
 * salt) and encoded as it comes. Plaintext only ever exists in memory, one chunk at a time, and is
 * wiped once encrypted; nothing is written in the clear. Returns the old header and the secret
 * that opened it.
 */
export async function rekeyVaultFile(
  inputPath: string,
  outputPath: string,
  secrets: VaultSecret[],
  newSecret: VaultSecret,
  options: EncryptVaultOptions & StreamDecryptOptions = {},
): Promise<{ header: VaultHeader; secret: VaultSecret }> {
  let opened: { header: VaultHeader; secret: VaultSecret } | undefined;
  await writeFileAtomically(outputPath, (output) =>
    encryptIntoOwnedFile(output, newSecret, options, async (keys, sink) => {
      const encryptor = plaintextEncryptor(keys, sink);
      // decryptVaultStream hands over each plaintext chunk (it keeps no reference), so it is wiped
      // as soon as it is encrypted.
      const reencrypt = new Writable({
        write(chunk: Buffer, _encoding, done) {
          const pushed = encryptor.push(chunk);
          chunk.fill(0);
          pushed.then(() => done(), done);
        },
      });
      try {
        opened = await decryptVaultStream(inputPath, reencrypt, secrets, options);
        reencrypt.end();
        await finished(reencrypt);
      } finally {
        reencrypt.destroy();
      }
      return encryptor.finish();
    }),
  );
  return opened!;
}

/** Decrypts `inputPath` into `outputPath` atomically (input may equal output); returns what matched. */
export async function decryptVaultFile(
  inputPath: string,
  outputPath: string,
  secrets: VaultSecret[],
  options: StreamDecryptOptions = {},
): Promise<{ header: VaultHeader; secret: VaultSecret }> {
  let result: { header: VaultHeader; secret: VaultSecret } | undefined;
  await writeFileAtomically(outputPath, async (output) => {
    result = await decryptVaultStream(inputPath, output, secrets, options);
  });
  return result!;
}
