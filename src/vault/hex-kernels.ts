/**
 * Two tiny WebAssembly loops for the hot paths of large vaults: the double-hex encoding of
 * ciphertext into 80-column lines, and decoding whole 80-column lines back. They are table-driven
 * and do exactly what the JavaScript fallbacks in format.ts / stream.ts do, 3-5x faster (no bounds
 * checks, no per-byte JS overhead). No crypto happens here (docs/FORMAT.md, "Double hex").
 *
 * The module is assembled below from its instructions (annotated) rather than shipped as an opaque
 * blob; it is compiled lazily on first use.
 *
 * Memory layout (one 64 KiB page = 65536 bytes):
 *   [0, 1024)            ENCODE table: byte → its 4 outer hex characters as a little-endian u32
 *   [1024, 66560)        DECODE table: 2 outer characters (little-endian u16) → inner hex digit value, 255 if invalid
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
    ...section(3, vec([[0], [0], [1]])),
    ...section(5, vec([[0x00, ...uleb(PAGES)]])),
    ...section(7, vec([[...name('memory'), 0x02, 0], [...name('encode'), 0x00, 0], [...name('decode'), 0x00, 1], [...name('encodeLines'), 0x00, 2]])),
    // (export kind 0x00 = function, index 0 = encode, 1 = decode; both of type 0: (i32, i32) → i32)
    ...section(10, vec([fn(3, encodeBody()), fn(8, decodeBody()), simdFn(4, 2, encodeLinesBody())])),
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
    };
    const memory = new Uint8Array(exports.memory.buffer);
    const view = new DataView(exports.memory.buffer);
    for (let byte = 0; byte < 256; byte++) {
      const inner = byte.toString(16).padStart(2, '0');
      const outer = Buffer.from(Buffer.from(inner, 'latin1').toString('hex'), 'latin1');
      view.setUint32(ENCODE_TABLE + 4 * byte, outer.readUInt32LE(0), true);
    }
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
