import { randomBytes } from 'node:crypto';

/**
 * `length` characters drawn uniformly from `alphabet` with the OS CSPRNG. Uses rejection sampling:
 * random bytes at or above the largest multiple of the alphabet size are discarded, so no character
 * is favoured (a plain `byte % size` would favour the first `256 % size` characters).
 */
export function randomString(length: number, alphabet: string): string {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError('length must be a non-negative integer');
  const symbols = Array.from(alphabet); // code points, so non-ASCII alphabets work too
  const size = symbols.length;
  if (size < 2) throw new RangeError('alphabet must have at least 2 characters');
  if (new Set(symbols).size !== size) throw new RangeError('alphabet must not repeat characters (that would bias it)');
  if (size > 65536) throw new RangeError('alphabet is too large');

  const bytesPerDraw = size <= 256 ? 1 : 2;
  const range = bytesPerDraw === 1 ? 256 : 65536;
  const limit = range - (range % size); // draws >= limit are rejected
  const out: string[] = [];
  while (out.length < length) {
    // Ask for a little more than the expected need; rejected draws are rare (< 50% worst case).
    const pool = randomBytes(bytesPerDraw * Math.ceil((length - out.length) * 1.3 + 16));
    for (let i = 0; i + bytesPerDraw <= pool.length && out.length < length; i += bytesPerDraw) {
      const draw = bytesPerDraw === 1 ? pool[i]! : pool.readUInt16BE(i);
      if (draw < limit) out.push(symbols[draw % size]!);
    }
    pool.fill(0);
  }
  return out.join('');
}
