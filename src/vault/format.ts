/**
 * The Ansible Vault 1.1/1.2 text envelope: header line, then the "double hex" body wrapped at 80
 * columns. Pure functions over strings and bytes; no crypto, no I/O. Every rule here is written down
 * (with Ansible's own behaviour it mirrors) in docs/FORMAT.md.
 */
import { VaultsmithError } from '../errors.js';
import { ENCODE_SLICE, hexKernels } from './hex-kernels.js';
import type { VaultHeader } from './types.js';

export const VAULT_MAGIC = '$ANSIBLE_VAULT';
export const VAULT_CIPHER = 'AES256';
/** Ansible wraps the outer hex at 80 columns (docs/FORMAT.md, "Layout"). */
export const VAULT_LINE_WIDTH = 80;
/** The vault id Ansible assumes when a header carries none. */
export const DEFAULT_VAULT_LABEL = 'default';

export interface VaultEnvelope {
  header: VaultHeader;
  salt: Buffer;
  hmac: Buffer;
  ciphertext: Buffer;
}

function formatError(message: string, hint?: string): VaultsmithError {
  return new VaultsmithError('VAULT_FORMAT', message, hint === undefined ? {} : { hint });
}

/** Python's bytes.strip(): ASCII whitespace only (docs/FORMAT.md, "Header"). */
export function stripAsciiWhitespace(text: string): string {
  return text.replace(/^[ \t\n\r\v\f]+|[ \t\n\r\v\f]+$/g, '');
}

/**
 * Ansible's `is_encrypted`: the data is pure ASCII and starts with `$ANSIBLE_VAULT` (no leading
 * whitespace allowed). Only the first bytes decide, so this is cheap on huge inputs except for the
 * ASCII check, which Ansible also performs over the whole input.
 */
export function isEncryptedVault(data: string | Uint8Array): boolean {
  if (typeof data === 'string') {
    // eslint-disable-next-line no-control-regex
    return data.startsWith(VAULT_MAGIC) && !/[^\x00-\x7f]/.test(data);
  }
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.length < VAULT_MAGIC.length || bytes.toString('latin1', 0, VAULT_MAGIC.length) !== VAULT_MAGIC) return false;
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! > 0x7f) return false;
  return true;
}

/** Raised for data that is not a vault at all (no `$ANSIBLE_VAULT` header). */
export function notEncryptedError(source?: string): VaultsmithError {
  return new VaultsmithError(
    'NOT_ENCRYPTED',
    `input is not vault encrypted data${source ? `: ${source} is not a vault encrypted file` : ''} (it does not start with ${VAULT_MAGIC})`,
  );
}

/**
 * Parses the first line, e.g. `$ANSIBLE_VAULT;1.2;AES256;prod`. Like Ansible, the line and each
 * `;` field are stripped of ASCII whitespace and a 4th field is the vault-id label (an empty label
 * means none). Stricter than Ansible, unknown versions/ciphers and extra fields are rejected instead
 * of being ignored, and the label is unauthenticated (docs/FORMAT.md, "The label is not protected").
 */
export function parseVaultHeader(line: string): VaultHeader {
  const fields = stripAsciiWhitespace(line).split(';').map(stripAsciiWhitespace);
  if (fields[0] !== VAULT_MAGIC) {
    throw formatError(`bad vault header: it must start with ${VAULT_MAGIC}`);
  }
  if (fields.length < 3) {
    throw formatError(`bad vault header: expected ${VAULT_MAGIC};<version>;<cipher>[;<vault id>], got ${fields.length} field(s)`);
  }
  if (fields.length > 4) {
    throw formatError(`bad vault header: expected at most 4 ';'-separated fields, got ${fields.length}`);
  }
  const version = fields[1]!;
  if (version !== '1.1' && version !== '1.2') {
    throw formatError(`unsupported vault format version '${printable(version)}' (supported: 1.1, 1.2)`);
  }
  const cipher = fields[2]!;
  if (cipher !== VAULT_CIPHER) {
    throw formatError(`unsupported vault cipher '${printable(cipher)}' (supported: ${VAULT_CIPHER})`);
  }
  const label = fields[3] ? fields[3] : null;
  return { version, cipher: VAULT_CIPHER, label };
}

/**
 * The header Ansible writes: 1.1 without a label when the label is absent or `default`, otherwise
 * 1.2 with the label (format_vaulttext_envelope in Ansible).
 */
export function formatVaultHeader(label: string | null | undefined): string {
  if (!label || label === DEFAULT_VAULT_LABEL) return `${VAULT_MAGIC};1.1;${VAULT_CIPHER}`;
  assertValidLabel(label);
  return `${VAULT_MAGIC};1.2;${VAULT_CIPHER};${label}`;
}

/**
 * A label must survive the header round trip: no `;`, no control characters, no surrounding
 * whitespace, and ASCII only — Ansible writes a UTF-8 label but then refuses to read its own file
 * because vault text must be pure ASCII (docs/FORMAT.md, "Header").
 */
export function assertValidLabel(label: string): void {
  // eslint-disable-next-line no-control-regex
  if (/[;\x00-\x1f\x7f]/.test(label) || stripAsciiWhitespace(label) !== label) {
    throw new VaultsmithError('INPUT', `invalid vault id label '${printable(label)}': it must not contain ';', control characters or surrounding whitespace`);
  }
  if (/[^\x20-\x7e]/.test(label)) {
    throw new VaultsmithError('INPUT', `invalid vault id label '${printable(label)}': only ASCII is allowed (Ansible cannot read a vault whose header is not ASCII)`);
  }
}

/** Shows a short, safe rendering of untrusted text inside a one-line message. */
export function printable(text: string, max = 40): string {
  const shown = text.length > max ? `${text.slice(0, max)}...` : text;
  // eslint-disable-next-line no-control-regex
  return shown.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const HEX_DIGIT = /^[0-9a-fA-F]*$/;

/**
 * Strict hex decoding. Buffer.from(s, 'hex') silently stops at the first bad character, so the
 * decoded length is checked and the culprit located for the message.
 */
export function decodeHex(hex: string, what: string): Buffer {
  const bytes = Buffer.from(hex, 'hex');
  if (bytes.length * 2 !== hex.length - (hex.length % 2) || !HEX_DIGIT.test(hex)) {
    const at = hex.search(/[^0-9a-fA-F]/);
    throw formatError(`${what} is not hexadecimal: unexpected character '${printable(hex.charAt(at))}' at offset ${at}`);
  }
  if (hex.length % 2 !== 0) {
    throw formatError(`${what} has an odd number of hex digits (${hex.length}); the vault is truncated or damaged`);
  }
  return bytes;
}

/**
 * Splits vault text into the header line and the joined body, like Ansible's splitlines(): `\n`,
 * `\r\n` and `\r` all end a line, blank lines vanish, but spaces inside body lines are errors.
 */
function splitVaultText(text: string): { headerLine: string; body: string } {
  const lines = text.split(/\r\n|\r|\n/);
  const headerLine = lines[0] ?? '';
  const bodyLines = lines.slice(1);
  for (let i = 0; i < bodyLines.length; i++) {
    const line = bodyLines[i]!;
    if (!HEX_DIGIT.test(line)) {
      const column = line.search(/[^0-9a-fA-F]/);
      throw formatError(
        `vault body is not hexadecimal: unexpected character '${printable(line.charAt(column))}' on line ${i + 2}, column ${column + 1}`,
      );
    }
  }
  return { headerLine, body: bodyLines.join('') };
}

/** Turns vault text (string or bytes) into a JS string, rejecting non-ASCII like Ansible. */
export function vaultTextToString(vaultText: string | Uint8Array, source?: string): string {
  const text =
    typeof vaultText === 'string'
      ? vaultText
      : Buffer.from(vaultText.buffer, vaultText.byteOffset, vaultText.byteLength).toString('latin1');
  if (!text.startsWith(VAULT_MAGIC)) throw notEncryptedError(source);
  // eslint-disable-next-line no-control-regex
  const nonAscii = text.search(/[^\x00-\x7f]/);
  if (nonAscii >= 0) throw formatError(`vault text contains a non-ASCII character at offset ${nonAscii}`);
  return text;
}

/**
 * Splits the decoded body (`hex(salt) \n hex(hmac) \n hex(ciphertext)`) into its three parts and
 * checks each one (docs/FORMAT.md, "Double hex").
 */
export function parseInnerPayload(inner: Buffer): { salt: Buffer; hmac: Buffer; ciphertext: Buffer } {
  const firstBreak = inner.indexOf(0x0a);
  const secondBreak = firstBreak < 0 ? -1 : inner.indexOf(0x0a, firstBreak + 1);
  if (inner.length === 0) throw formatError('vault body is empty; the vault is truncated');
  if (firstBreak < 0 || secondBreak < 0) {
    throw formatError(
      `vault payload is missing its ${firstBreak < 0 ? 'HMAC and ciphertext lines' : 'ciphertext line'}; the vault is truncated or damaged`,
    );
  }
  const salt = decodeHex(inner.toString('latin1', 0, firstBreak), 'vault salt');
  if (salt.length === 0) throw formatError('vault salt is empty');
  const hmac = decodeHex(inner.toString('latin1', firstBreak + 1, secondBreak), 'vault HMAC');
  if (hmac.length !== 32) throw formatError(`vault HMAC is ${hmac.length} bytes, expected 32 (HMAC-SHA256)`);
  const ciphertext = decodeHex(inner.toString('latin1', secondBreak + 1), 'vault ciphertext');
  checkCiphertextLength(ciphertext.length);
  return { salt, hmac, ciphertext };
}

/** Ansible pads to the AES block size even in CTR mode, so a valid ciphertext is whole blocks. */
export function checkCiphertextLength(length: number): void {
  if (length === 0) throw formatError('vault ciphertext is empty; the vault is truncated');
  if (length % 16 !== 0) {
    throw formatError(`vault ciphertext is ${length} bytes, not a multiple of the 16-byte AES block; the vault is truncated or damaged`);
  }
}

/** Parses a whole vault text into header, salt, HMAC and ciphertext without decrypting it. */
export function parseVaultEnvelope(text: string | Uint8Array, source?: string): VaultEnvelope {
  const { headerLine, body } = splitVaultText(vaultTextToString(text, source));
  const header = parseVaultHeader(headerLine);
  if (body.length === 0) throw formatError('vault has a header but no body; the vault is truncated');
  const inner = decodeHex(body, 'vault body');
  return { header, ...parseInnerPayload(inner) };
}

/** hex(salt) "\n" hex(hmac) "\n" — the part of the inner payload before the ciphertext. */
export function innerPrefix(salt: Uint8Array, hmac: Uint8Array): Buffer {
  return Buffer.from(`${Buffer.from(salt).toString('hex')}\n${Buffer.from(hmac).toString('hex')}\n`, 'latin1');
}

/** For each byte, its double-hex form hex(hex(byte)) as four ASCII bytes packed little-endian. */
const OUTER_HEX_OF_BYTE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let byte = 0; byte < 256; byte++) {
    table[byte] = Buffer.from(Buffer.from(byte.toString(16).padStart(2, '0'), 'latin1').toString('hex'), 'latin1').readUInt32LE(0);
  }
  return table;
})();

/**
 * Incrementally turns inner-payload bytes into 80-column outer-hex lines. Feeding the same bytes in
 * any chunking yields the same text, so the streaming and in-memory encoders agree byte for byte.
 */
/** Ciphertext bytes per full 80-column line (4 outer characters each). */
const BYTES_PER_LINE = VAULT_LINE_WIDTH / 4;

export class OuterHexWriter {
  private column = 0;

  /** Returns the wrapped outer hex for `inner`; lines end with "\n" once they reach 80 columns. */
  push(inner: Uint8Array): Buffer {
    const hex = Buffer.from(Buffer.from(inner.buffer, inner.byteOffset, inner.byteLength).toString('hex'), 'latin1');
    const firstRoom = VAULT_LINE_WIDTH - this.column;
    const breaks = hex.length < firstRoom ? 0 : 1 + Math.floor((hex.length - firstRoom) / VAULT_LINE_WIDTH);
    const out = Buffer.allocUnsafe(hex.length + breaks);
    let read = 0;
    let written = 0;
    while (read < hex.length) {
      const take = Math.min(VAULT_LINE_WIDTH - this.column, hex.length - read);
      hex.copy(out, written, read, read + take);
      read += take;
      written += take;
      this.column += take;
      if (this.column === VAULT_LINE_WIDTH) {
        out[written++] = 0x0a;
        this.column = 0;
      }
    }
    return out;
  }

  /**
   * Same as push(hex(ciphertext)) but four output characters per ciphertext byte straight from a
   * table: this is the hot loop when encrypting large files.
   */
  pushCiphertext(ciphertext: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(OuterHexWriter.encodedLengthBound(ciphertext.length));
    return out.subarray(0, this.pushCiphertextInto(ciphertext, out));
  }

  /** Upper bound of the bytes pushCiphertext produces for `length` ciphertext bytes, at any column. */
  static encodedLengthBound(length: number): number {
    return length * 4 + Math.floor((VAULT_LINE_WIDTH + length * 4) / VAULT_LINE_WIDTH) + 1;
  }

  /**
   * pushCiphertext into a caller's buffer (at least encodedLengthBound(ciphertext.length) bytes, so
   * big outputs can reuse their buffers); returns the bytes written.
   */
  pushCiphertextInto(ciphertext: Uint8Array, out: Buffer): number {
    if (out.length < OuterHexWriter.encodedLengthBound(ciphertext.length)) throw new RangeError('pushCiphertextInto: output buffer too small');
    const kernels = ciphertext.length >= 4096 && this.column % 4 === 0 ? hexKernels() : null;
    if (!kernels) return this.pushCiphertextJs(ciphertext, out);
    // Finish the current line, then whole lines through the SIMD kernel, then the rest.
    const lead = this.column === 0 ? 0 : Math.min(ciphertext.length, (VAULT_LINE_WIDTH - this.column) / 4);
    let written = this.pushCiphertextJs(ciphertext.subarray(0, lead), out);
    let offset = lead;
    const maxLines = Math.floor(ENCODE_SLICE / BYTES_PER_LINE);
    while (ciphertext.length - offset >= BYTES_PER_LINE) {
      const lines = Math.min(maxLines, Math.floor((ciphertext.length - offset) / BYTES_PER_LINE));
      kernels.memory.set(ciphertext.subarray(offset, offset + lines * BYTES_PER_LINE), kernels.inputOffset);
      const count = kernels.encodeLines(lines);
      out.set(kernels.memory.subarray(kernels.outputOffset, kernels.outputOffset + count), written);
      written += count;
      offset += lines * BYTES_PER_LINE;
    }
    return written + this.pushCiphertextJs(ciphertext.subarray(offset), out.subarray(written));
  }

  /** The same in JavaScript: small inputs and the (theoretical) unaligned column. */
  private pushCiphertextJs(ciphertext: Uint8Array, out: Buffer): number {
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    let written = 0;
    let column = this.column;
    for (let i = 0; i < ciphertext.length; i++) {
      const chars = OUTER_HEX_OF_BYTE[ciphertext[i]!]!;
      if (column <= VAULT_LINE_WIDTH - 4) {
        view.setUint32(written, chars, true);
        written += 4;
        column += 4;
      } else {
        // The four characters straddle a line break (only with unusual salt lengths).
        for (let k = 0; k < 4; k++) {
          out[written++] = (chars >>> (8 * k)) & 0xff;
          if (++column === VAULT_LINE_WIDTH) {
            out[written++] = 0x0a;
            column = 0;
          }
        }
        continue;
      }
      if (column === VAULT_LINE_WIDTH) {
        out[written++] = 0x0a;
        column = 0;
      }
    }
    this.column = column;
    return written;
  }

  /** Ends the last partial line: Ansible's output always finishes with exactly one newline. */
  finish(): Buffer {
    return this.column === 0 ? Buffer.alloc(0) : Buffer.from('\n');
  }
}

/** Builds the full vault text from its parts (format_vaulttext_envelope in Ansible). */
export function formatVaultEnvelope(envelope: { label: string | null; salt: Uint8Array; hmac: Uint8Array; ciphertext: Uint8Array }): string {
  return formatVaultEnvelopeBytes(envelope).toString('latin1');
}

/** The same as ASCII bytes, built in one allocation (the text is ~4x the ciphertext). */
export function formatVaultEnvelopeBytes(envelope: { label: string | null; salt: Uint8Array; hmac: Uint8Array; ciphertext: Uint8Array }): Buffer {
  const writer = new OuterHexWriter();
  const header = Buffer.from(`${formatVaultHeader(envelope.label)}\n`, 'latin1');
  const prefix = writer.push(innerPrefix(envelope.salt, envelope.hmac));
  const out = Buffer.allocUnsafe(header.length + prefix.length + OuterHexWriter.encodedLengthBound(envelope.ciphertext.length) + 1);
  let length = header.copy(out, 0);
  length += prefix.copy(out, length);
  length += writer.pushCiphertextInto(envelope.ciphertext, out.subarray(length));
  length += writer.finish().copy(out, length);
  return out.subarray(0, length);
}
