/**
 * Python's `base64.urlsafe_b64decode` (non-strict `binascii.a2b_base64`, CPython 3.11), reproduced so
 * that a key or token accepted or rejected by Python's `cryptography.fernet` is accepted or rejected
 * here too. Its quirks are deliberate: `-_` and `+/` both decode, bytes outside the alphabet
 * (whitespace, `%`, ...) are skipped, nothing after a complete `=` padding is read, leftover bits in
 * the last character are ignored, and a missing `=` is an error. Returns null where Python raises.
 */

const PAD = 0x3d; // '='

// Standard alphabet plus the url-safe characters, which Python translates to `+` and `/` first.
const DECODE_TABLE: Int8Array = (() => {
  const table = new Int8Array(256).fill(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  table[0x2d] = 62; // '-'
  table[0x5f] = 63; // '_'
  return table;
})();

export function pythonUrlsafeB64decode(input: string | Uint8Array): Buffer | null {
  let bytes: Uint8Array;
  if (typeof input === 'string') {
    // Python refuses str arguments with non-ASCII characters before decoding.
    if (/[^\x00-\x7f]/.test(input)) return null;
    bytes = Buffer.from(input, 'latin1');
  } else {
    bytes = input;
  }
  const out = Buffer.alloc(Math.floor((bytes.length * 3) / 4) + 3);
  let outLength = 0;
  let quadPosition = 0;
  let leftover = 0;
  let pads = 0;
  for (const byte of bytes) {
    if (byte === PAD) {
      // A pad only counts after two data characters of a quad; enough pads end the input.
      if (quadPosition >= 2 && quadPosition + ++pads >= 4) return out.subarray(0, outLength);
      continue;
    }
    const value = DECODE_TABLE[byte] ?? -1;
    if (value < 0) continue;
    pads = 0;
    switch (quadPosition) {
      case 0:
        quadPosition = 1;
        leftover = value;
        break;
      case 1:
        quadPosition = 2;
        out[outLength++] = ((leftover << 2) | (value >> 4)) & 0xff;
        leftover = value & 0x0f;
        break;
      case 2:
        quadPosition = 3;
        out[outLength++] = ((leftover << 4) | (value >> 2)) & 0xff;
        leftover = value & 0x03;
        break;
      default:
        quadPosition = 0;
        out[outLength++] = ((leftover << 6) | value) & 0xff;
        leftover = 0;
    }
  }
  // An incomplete final quad without its padding is "Incorrect padding" in Python.
  return quadPosition === 0 ? out.subarray(0, outLength) : null;
}

/** `base64.urlsafe_b64encode`: url-safe alphabet with `=` padding. */
export function urlsafeB64encode(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}
