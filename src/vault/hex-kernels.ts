/**
 * Tiny WebAssembly loops for the hot paths of large vaults: the double-hex encoding of ciphertext
 * into 80-column lines, and decoding whole 80-column lines back (SIMD, with the table-driven scalar
 * decoder kept as its reference). They do exactly what the JavaScript fallbacks in format.ts /
 * stream.ts do, several times faster (no bounds checks, no per-byte JS overhead). No crypto happens
 * here (docs/FORMAT.md, "Double hex").
 *
 * The module is assembled below from its instructions (annotated) rather than shipped as an opaque
 * blob; it is compiled lazily on first use.
 *
 * Memory layout (one 64 KiB page = 65536 bytes):
 *   [0, 1024)            ENCODE table: byte → its 4 outer hex characters as a little-endian u32
 *   [1024, 66560)        DECODE table: 2 outer characters (little-endian u16) → inner hex digit value, 255 if invalid
 *   [66560, 66624)       the SIMD decoder's constants (DECODE_CONSTANTS)
 *   [IN, IN+SLICE)       input area for copied data
 *   [OUT, OUT+OUT_SIZE)  output area
 *   two READ_AREA areas  file reads land here directly (leased to one decoder at a time)
 */

const ENCODE_TABLE = 0;
const DECODE_TABLE = 1024;
const IN = 131072;
/** Largest input slice handed to a kernel call (a multiple of 81 for whole lines). */
export const KERNEL_SLICE = 81 * 12800; // ≈ 1 MiB
/** Encode input slice; its output is 4 bytes per input byte plus one newline per 20. */
export const ENCODE_SLICE = 256 * 1024;
const OUT = IN + KERNEL_SLICE + 1024;
const OUT_SIZE = Math.max(KERNEL_SLICE / 4, ENCODE_SLICE * 4 + ENCODE_SLICE / 20 + 16);
/** Size of each of the two areas files are read into directly (see leaseReadAreas). */
export const READ_AREA = 1 << 20;
const READ_AREAS = [OUT + OUT_SIZE + 1024, OUT + OUT_SIZE + 1024 + READ_AREA] as const;
const PAGES = Math.ceil((READ_AREAS[1] + READ_AREA) / 65536);

// --- a minimal WebAssembly binary writer -------------------------------------------------------
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const name = (s: string) => [...uleb(s.length), ...Buffer.from(s, 'latin1')];

const I32 = 0x7f;
// Instructions used (opcode, then immediates).
const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const tee = (i: number) => [0x22, ...uleb(i)];
const i32 = (v: number) => [0x41, ...sleb(v)];
const add = [0x6a];
const sub = [0x6b];
const shl = [0x74];
const or = [0x72];
const eq = [0x46];
const ne = [0x47];
const ltU = [0x49];
const gtU = [0x4b];
const geU = [0x4f];
const load = (offset: number) => [0x28, 0, ...uleb(offset)]; // i32.load align=1
const load8 = (offset: number) => [0x2d, 0, ...uleb(offset)]; // i32.load8_u
const load16 = (offset: number) => [0x2f, 0, ...uleb(offset)]; // i32.load16_u align=1
const store = (offset: number) => [0x36, 0, ...uleb(offset)]; // i32.store align=1
const store8 = (offset: number) => [0x3a, 0, ...uleb(offset)];
const block = [0x02, 0x40];
const loop = [0x03, 0x40];
const if_ = [0x04, 0x40];
const end = [0x0b];
const br = (depth: number) => [0x0c, ...uleb(depth)];
const brIf = (depth: number) => [0x0d, ...uleb(depth)];
const incr = (local: number, by: number) => [...get(local), ...i32(by), ...add, ...set(local)];
const mul = [0x6c];
const loadI32 = load;
// SIMD (0xfd prefix; opcodes from the WebAssembly SIMD proposal, part of the standard since 2.0).
const V128 = 0x7b;
const simd = (op: number, ...immediates: number[]) => [0xfd, ...uleb(op), ...immediates];
const v128Const = (bytes: readonly number[]) => simd(0x0c, ...bytes);
const v128Store = (offset: number) => simd(0x0b, 0, ...uleb(offset));
const swizzle = simd(0x0e);
const i32x4Splat = simd(0x11);
const v128And = simd(0x4e);
const bitselect = simd(0x52);
const i8x16ShrU = simd(0x6d);
const v128Load = (offset: number) => simd(0x00, 0, ...uleb(offset)); // v128.load align=1
const v128Store32Lane = (offset: number, lane: number) => simd(0x5a, 0, ...uleb(offset), lane); // v128.store32_lane align=1
const i8x16Sub = simd(0x71); // lane-wise wrapping subtraction
const i16x8Shl = simd(0x8b); // (v128, i32 count) → each 16-bit lane shifted left
const i16x8MinU = simd(0x97); // lane-wise unsigned minimum
const i16x8AllTrue = simd(0x83); // → i32: 1 if no 16-bit lane is zero
const i16x8ShrU = simd(0x8d);
const i32x4Mul = simd(0xb5); // lane-wise wrapping multiplication
const i32x4ShrU = simd(0xad);
const i32x4DotI16x8S = simd(0xba); // 32-bit lane i = s16 2i × s16 2i (b) + s16 2i+1 × s16 2i+1 (b)
const i16x8NarrowI32x4U = simd(0x86); // 4 + 4 32-bit lanes → 8 16-bit lanes, saturating to 0..65535
const i8x16NarrowI16x8U = simd(0x66); // 8 + 8 16-bit lanes → 16 bytes, saturating to 0..255
const lanes = (f: (lane: number) => number) => Array.from({ length: 16 }, (_, lane) => f(lane));
/** Outer hex of an inner hex digit n: first character "3" (for 0-9) or "6" (for a-f) ... */
const OUTER_FIRST = lanes((n) => (n < 10 ? 0x33 : 0x36));
/** ... and second character: "0"-"9" for 0-9, "1"-"6" for a-f. */
const OUTER_SECOND = lanes((n) => (n < 10 ? 0x30 + n : 0x31 + (n - 10)));
/** Spreads 4 input bytes over 16 lanes, 4 lanes (4 output characters) each. */
const SPREAD = lanes((lane) => lane >> 2);
/** Lanes 0,1 of each group take the byte's high nibble, lanes 2,3 its low one. */
const HIGH_NIBBLE_LANES = lanes((lane) => (lane % 4 < 2 ? 0xff : 0));
/** Lanes 0,2 of each group are the first character of an outer pair. */
const FIRST_CHAR_LANES = lanes((lane) => (lane % 2 === 0 ? 0xff : 0));

/**
 * encode(n, column) → bytes written at OUT. For each of the n ciphertext bytes at IN, stores its four
 * outer hex characters; after every 80th character of a line, a "\n". `column` must be a multiple of 4.
 */
function encodeBody(): number[] {
  const [n, column, src, stop, dst] = [0, 1, 2, 3, 4];
  return [
    ...i32(IN), ...set(src),
    ...i32(IN), ...get(n), ...add, ...set(stop),
    ...i32(OUT), ...set(dst),
    ...block, ...loop,
    ...get(src), ...get(stop), ...geU, ...brIf(1),
    ...get(dst), ...get(src), ...load8(0), ...i32(2), ...shl, ...load(ENCODE_TABLE), ...store(0),
    ...incr(dst, 4), ...incr(column, 4), ...incr(src, 1),
    ...get(column), ...i32(80), ...eq, ...if_,
    ...get(dst), ...i32(10), ...store8(0), ...incr(dst, 1), ...i32(0), ...set(column),
    ...end,
    ...br(0),
    ...end, ...end,
    ...get(dst), ...i32(OUT), ...sub,
  ];
}

/**
 * encodeLines(lines) → bytes written at OUT. Encodes lines × 20 ciphertext bytes at IN into whole
 * 80-column lines (80 outer characters + "\n" each), 4 bytes → 16 characters per SIMD step; only
 * for a writer at column 0. Same output as encode(), about 3x faster.
 */
function encodeLinesBody(): number[] {
  const [lines, src, stop, dst, j, spread, nibbles] = [0, 1, 2, 3, 4, 5, 6];
  return [
    ...i32(IN), ...set(src),
    ...i32(IN), ...get(lines), ...i32(20), ...mul, ...add, ...set(stop),
    ...i32(OUT), ...set(dst),
    ...block, ...loop,
    ...get(src), ...get(stop), ...geU, ...brIf(1),
    ...i32(0), ...set(j),
    ...loop,
    // spread = the 4 bytes at src + 4j, each in 4 lanes
    ...get(src), ...get(j), ...i32(2), ...shl, ...add, ...loadI32(0), ...i32x4Splat, ...v128Const(SPREAD), ...swizzle, ...set(spread),
    // nibbles = high nibble in lanes 0,1 of each group, low nibble in lanes 2,3
    ...get(spread), ...i32(4), ...i8x16ShrU,
    ...get(spread), ...v128Const(lanes(() => 0x0f)), ...v128And,
    ...v128Const(HIGH_NIBBLE_LANES), ...bitselect, ...set(nibbles),
    // store at dst + 16j: first or second outer character of each nibble's inner hex digit
    ...get(dst), ...get(j), ...i32(4), ...shl, ...add,
    ...v128Const(OUTER_FIRST), ...get(nibbles), ...swizzle,
    ...v128Const(OUTER_SECOND), ...get(nibbles), ...swizzle,
    ...v128Const(FIRST_CHAR_LANES), ...bitselect,
    ...v128Store(0),
    ...get(j), ...i32(1), ...add, ...tee(j), ...i32(5), ...ltU, ...brIf(0),
    ...end,
    ...get(dst), ...i32(10), ...store8(80),
    ...incr(src, 20), ...incr(dst, 81),
    ...br(0),
    ...end, ...end,
    ...get(dst), ...i32(OUT), ...sub,
  ];
}

/**
 * decode(start, n) → input bytes consumed. Decodes whole lines of exactly 80 outer characters + "\n"
 * from memory[start..start+n) into 20 ciphertext bytes each at OUT; stops before an incomplete line, a line of another length
 * or a line with any invalid character (left to the JavaScript path, which reports it precisely).
 */
function decodeBody(): number[] {
  const [start, n, src, stop, dst, j, bad, hi, lo, at] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  return [
    ...get(start), ...set(src),
    ...get(start), ...get(n), ...add, ...set(stop),
    ...i32(OUT), ...set(dst),
    ...block, ...loop,
    // a whole line must be present and end in "\n" at column 81
    ...get(src), ...i32(81), ...add, ...get(stop), ...gtU, ...brIf(1),
    ...get(src), ...load8(80), ...i32(10), ...ne, ...brIf(1),
    ...i32(0), ...set(bad), ...i32(0), ...set(j),
    ...loop,
    ...get(src), ...get(j), ...i32(2), ...shl, ...add, ...set(at),
    ...get(at), ...load16(0), ...load8(DECODE_TABLE), ...set(hi),
    ...get(at), ...load16(2), ...load8(DECODE_TABLE), ...set(lo),
    ...get(bad), ...get(hi), ...or, ...get(lo), ...or, ...set(bad),
    ...get(dst), ...get(j), ...add, ...get(hi), ...i32(4), ...shl, ...get(lo), ...or, ...store8(0),
    ...get(j), ...i32(1), ...add, ...tee(j), ...i32(20), ...ltU, ...brIf(0),
    ...end,
    ...get(bad), ...i32(15), ...gtU, ...brIf(1),
    ...incr(src, 81), ...incr(dst, 20),
    ...br(0),
    ...end, ...end,
    ...get(src), ...get(start), ...sub,
  ];
}

/**
 * The SIMD decoder's constants. Each input vector holds 16 outer characters = 8 pairs (a, b) =
 * 4 ciphertext bytes; a pair is valid iff the scalar DECODE table accepts it: a = "3" with b = "0"-"9"
 * (inner digit 0-9), or a = "4" / "6" with b = "1"-"6" (inner digit A-F / a-f = 10-15).
 * Subtracting PAIR_BASE maps b = "0".."9" to 0..9 and a = "3", "4", "5", "6" to 10..13 (anything else
 * outside 0..15 as an unsigned byte, which i8x16.swizzle looks up as 0), so one 16-entry table can
 * classify both characters of a pair.
 */
const PAIR_BASE = lanes((lane) => (lane % 2 === 0 ? 0x33 - 10 : 0x30));
/**
 * PAIR_CLASS[index]: bits 4-7 are classes, bit 4 "a = 3", bit 5 "a = 4 or 6", bit 6 "b = 0-9" (may
 * follow a = 3), bit 7 "b = 1-6" (may follow a = 4 or 6). Bits 0-3 are chosen so that index & entry is
 * the character's part of the inner digit: b → its digit (entry = b | classes), a → L = 1 for a letter
 * (4 = 0b1011 & 0b0001, 6 = 0b1101 & 0b0001), 0 for "3" (0b1010 & 0).
 * Validity: in the 16-bit lane a | b << 8 of entries, (lane & lane << 10) has bit 14 (a = 3 meets
 * b = 0-9) or bit 15 (a letter meets b = 1-6) set exactly for valid pairs; its other bits (10-13) are
 * below 0x4000, so a pair is valid iff that value is ≥ 0x4000.
 */
const PAIR_CLASS = lanes((i) =>
  i <= 9 ? i | 0x40 | (i >= 1 && i <= 6 ? 0x80 : 0) : i === 10 ? 0x10 : i === 11 || i === 13 ? 0x20 | 1 : 0,
);
/**
 * i32x4.dot weights (16-bit lanes 16, 1): per group of 4 characters (ah bh al bl), with index & class
 * = (Lh, bh, Ll, bl): D = 16 (Lh + 256 bh) + (Ll + 256 bl) = 256 X + Y, X = 16 bh + bl, Y = 16 Lh + Ll.
 */
const NIBBLE_WEIGHTS = lanes((lane) => (lane % 4 === 0 ? 16 : lane % 4 === 2 ? 1 : 0));
/**
 * D × (2^16 + 9 × 2^24) ≡ 2^24 (X + 9Y) + 2^16 Y (mod 2^32) with Y < 256: the top byte is
 * X + 9Y = 16 (bh + 9Lh) + (bl + 9Ll), the ciphertext byte (inner digit = b + 9L).
 */
const DIGITS_TO_BYTE = 0x10000 + 9 * 0x1000000;
/** Where the constants are stored (16 bytes each, loaded once per call). */
const SIMD_CONSTANTS = DECODE_TABLE + 65536;
const DECODE_CONSTANTS = [
  PAIR_BASE, PAIR_CLASS, NIBBLE_WEIGHTS,
  lanes((lane) => (DIGITS_TO_BYTE >>> (8 * (lane % 4))) & 0xff),
] as const;

/**
 * decodeLines(start, n): decode(start, n) with SIMD, same result, same output at OUT, same stop
 * conditions. Each 80-character line is 5 vectors of 16 characters → 4 ciphertext bytes each.
 * One swizzle classifies every character (PAIR_CLASS). Validity: a shift and an AND pair a's class
 * with b's, min_u gathers the lines. Value: index & class gives each character's part of its inner
 * digit, a dot product and an i32 multiply form each ciphertext byte in the top byte of a 32-bit
 * lane, narrowing packs 5 × 4 bytes into 20. Two lines per iteration while both are whole and valid; then one line per iteration
 * (the last line, or a pair with a bad line), stopping before a line the scalar table rejects.
 */
function decodeLinesBody(): number[] {
  const [start, n, src, stop, dst] = [0, 1, 2, 3, 4];
  const [index, cls, valid, tmp, base, classes, weights, toByte] = [5, 6, 7, 8, 9, 10, 11, 12];
  // Stack: → the bytes of characters [at, at + 16) from src, one per 32-bit lane (garbage for bad
  // pairs); valid = (first ? · : min(valid, ·)) of its pair checks (a 16-bit lane < 0x4000: bad pair).
  const vector = (at: number, first: boolean) => [
    ...get(src), ...v128Load(at), ...get(base), ...i8x16Sub, ...set(index),
    ...get(classes), ...get(index), ...swizzle, ...tee(cls), ...i32(10), ...i16x8Shl, ...get(cls), ...v128And,
    ...(first ? [] : [...get(valid), ...i16x8MinU]), ...set(valid),
    ...get(index), ...get(cls), ...v128And, ...get(weights), ...i32x4DotI16x8S,
    ...get(toByte), ...i32x4Mul, ...i32(24), ...i32x4ShrU,
  ];
  // bytes 0-15 of the line at src + at, stored at dst + out
  const head = (at: number, out: number, first: boolean) => [
    ...get(dst),
    ...vector(at, first), ...vector(at + 16, false), ...i16x8NarrowI32x4U,
    ...vector(at + 32, false), ...vector(at + 48, false), ...i16x8NarrowI32x4U,
    ...i8x16NarrowI16x8U,
    ...v128Store(out),
  ];
  const lineEndsAt = (at: number) => [...get(src), ...load8(at + 80), ...i32(10), ...ne];
  const stopUnless = (depth: number) => [...get(valid), ...i32(14), ...i16x8ShrU, ...i16x8AllTrue, ...i32(0), ...eq, ...brIf(depth)];
  return [
    ...get(start), ...set(src),
    ...get(start), ...get(n), ...add, ...set(stop),
    ...i32(OUT), ...set(dst),
    // constants from memory, so they stay in registers instead of being rebuilt in every iteration
    ...[base, classes, weights, toByte].flatMap((local, i) => [...i32(0), ...v128Load(SIMD_CONSTANTS + 16 * i), ...set(local)]),
    ...block,
    // two lines (162 bytes) per iteration
    ...block, ...loop,
    ...get(src), ...i32(162), ...add, ...get(stop), ...gtU, ...brIf(1),
    ...lineEndsAt(0), ...lineEndsAt(81), ...or, ...brIf(1),
    ...head(0, 0, true), ...head(81, 20, false),
    // bytes 16-19 of both lines: lanes 0 and 1 of one vector
    ...get(dst), ...get(dst),
    ...vector(64, false), ...vector(81 + 64, false), ...i16x8NarrowI32x4U, ...tee(tmp), ...get(tmp), ...i8x16NarrowI16x8U,
    ...tee(tmp),
    ...v128Store32Lane(16, 0), ...get(tmp), ...v128Store32Lane(36, 1),
    // a bad pair anywhere: leave both lines to the one-line loop
    ...stopUnless(1),
    ...incr(src, 162), ...incr(dst, 40),
    ...br(0),
    ...end, ...end,
    // one line per iteration
    ...loop,
    // a whole line must be present and end in "\n" at column 81
    ...get(src), ...i32(81), ...add, ...get(stop), ...gtU, ...brIf(1),
    ...lineEndsAt(0), ...brIf(1),
    ...head(0, 0, true),
    // bytes 16-19
    ...get(dst),
    ...vector(64, false), ...tee(tmp), ...get(tmp), ...i16x8NarrowI32x4U, ...tee(tmp), ...get(tmp), ...i8x16NarrowI16x8U,
    ...v128Store32Lane(16, 0),
    // any invalid pair: stop before this line (its output is not counted)
    ...stopUnless(1),
    ...incr(src, 81), ...incr(dst, 20),
    ...br(0),
    ...end, ...end,
    ...get(src), ...get(start), ...sub,
  ];
}

function assemble(): Uint8Array<ArrayBuffer> {
  const fn = (locals: number, body: number[]) => {
    const code = [...uleb(1), ...uleb(locals), I32, ...body, ...end];
    return [...uleb(code.length), ...code];
  };
  const simdFn = (i32Locals: number, v128Locals: number, body: number[]) => {
    const code = [...uleb(2), ...uleb(i32Locals), I32, ...uleb(v128Locals), V128, ...body, ...end];
    return [...uleb(code.length), ...code];
  };
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec([[I32], [I32]]), ...vec([[I32]])], [0x60, ...vec([[I32]]), ...vec([[I32]])]])),
    ...section(3, vec([[0], [0], [1], [0]])),
    ...section(5, vec([[0x00, ...uleb(PAGES)]])),
    ...section(7, vec([
      [...name('memory'), 0x02, 0],
      [...name('encode'), 0x00, 0],
      [...name('decodeScalar'), 0x00, 1],
      [...name('encodeLines'), 0x00, 2],
      [...name('decode'), 0x00, 3],
    ])),
    // (export kind 0x00 = function; index 0 = encode, 1 = scalar decode, 3 = SIMD decode, all of
    // type 0: (i32, i32) → i32; 2 = encodeLines of type 1: (i32) → i32)
    ...section(10, vec([fn(3, encodeBody()), fn(8, decodeBody()), simdFn(4, 2, encodeLinesBody()), simdFn(3, 8, decodeLinesBody())])),
  ];
  return new Uint8Array(new ArrayBuffer(bytes.length)).map((_, i) => bytes[i]!);
}

export interface HexKernels {
  memory: Uint8Array;
  inputOffset: number;
  outputOffset: number;
  encode(n: number, column: number): number;
  /** encodeLines(lines): whole lines of 20 input bytes at inputOffset, for a writer at column 0. */
  encodeLines(lines: number): number;
  /** Decodes memory[start..start+n); returns the bytes consumed (whole lines). */
  decode(start: number, n: number): number;
  /** Buffers viewing the two read areas. */
  readAreas: readonly [Buffer, Buffer];
}

let kernels: HexKernels | null | undefined;
let scalarDecode: ((start: number, n: number) => number) | null = null;

/**
 * The scalar (table-driven) line decoder with the same contract as HexKernels.decode, which is the
 * SIMD one; kept as the reference definition for tests and measurements. Null without WebAssembly.
 */
export function decodeScalar(): ((start: number, n: number) => number) | null {
  hexKernels();
  return scalarDecode;
}

/** The compiled kernels, or null when WebAssembly is unavailable (the JS paths are used then). */
export function hexKernels(): HexKernels | null {
  if (kernels !== undefined) return kernels;
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(assemble()), {});
    const exports = instance.exports as {
      memory: WebAssembly.Memory;
      encode: (n: number, column: number) => number;
      encodeLines: (lines: number) => number;
      decode: (start: number, n: number) => number;
      decodeScalar: (start: number, n: number) => number;
    };
    const memory = new Uint8Array(exports.memory.buffer);
    const view = new DataView(exports.memory.buffer);
    for (let byte = 0; byte < 256; byte++) {
      const inner = byte.toString(16).padStart(2, '0');
      const outer = Buffer.from(Buffer.from(inner, 'latin1').toString('hex'), 'latin1');
      view.setUint32(ENCODE_TABLE + 4 * byte, outer.readUInt32LE(0), true);
    }
    DECODE_CONSTANTS.forEach((bytes, i) => memory.set(bytes, SIMD_CONSTANTS + 16 * i));
    memory.fill(255, DECODE_TABLE, DECODE_TABLE + 65536);
    for (const digit of '0123456789abcdefABCDEF') {
      const outer = digit.charCodeAt(0).toString(16);
      memory[DECODE_TABLE + (outer.charCodeAt(0) | (outer.charCodeAt(1) << 8))] = parseInt(digit, 16);
    }
    const area = (offset: number) => Buffer.from(exports.memory.buffer, offset, READ_AREA);
    kernels = {
      memory,
      inputOffset: IN,
      outputOffset: OUT,
      encode: exports.encode,
      encodeLines: exports.encodeLines,
      decode: exports.decode,
      readAreas: [area(READ_AREAS[0]), area(READ_AREAS[1])],
    };
    scalarDecode = exports.decodeScalar;
  } catch {
    kernels = null;
  }
  return kernels;
}

let readAreasLeased = false;

/**
 * Lends the two read areas to one decoder so a file is read straight into kernel memory (no copy).
 * Returns null when unavailable or already lent (concurrent decryptions then read into their own
 * buffers). The caller must `releaseReadAreas()` once no read into them is in flight.
 */
export function leaseReadAreas(): readonly [Buffer, Buffer] | null {
  const k = hexKernels();
  if (!k || readAreasLeased) return null;
  readAreasLeased = true;
  return k.readAreas;
}

export function releaseReadAreas(): void {
  readAreasLeased = false;
}
