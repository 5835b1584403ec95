/**
 * Line-oriented bulk operations behind `vaultsmith fernet`: one value per input line, one result per
 * output line, so rows exported from a database can be inspected or re-encrypted and matched back
 * by line number. Failures carry only a reason, never the line's content.
 */
import type { Readable } from 'node:stream';
import { InvalidToken, Fernet, MultiFernet } from './index.js';

export type FernetAction = 'encrypt' | 'decrypt' | 'rotate';

export type LineResult =
  | { line: number; kind: 'blank' }
  | { line: number; kind: 'ok'; output: Buffer }
  | { line: number; kind: 'error'; reason: string };

/** Splits a byte stream on `\n` (dropping a `\r` before it); a final unterminated line counts too. */
export async function* splitLines(stream: Readable): AsyncGenerator<Buffer> {
  let pending = Buffer.alloc(0);
  for await (const chunk of stream) {
    pending = Buffer.concat([pending, typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer)]);
    let newline: number;
    while ((newline = pending.indexOf(0x0a)) !== -1) {
      yield stripCarriageReturn(pending.subarray(0, newline));
      pending = pending.subarray(newline + 1);
    }
  }
  if (pending.length) yield stripCarriageReturn(pending);
}

function stripCarriageReturn(line: Buffer): Buffer {
  return line.length && line[line.length - 1] === 0x0d ? line.subarray(0, -1) : line;
}

export interface LineOptions {
  /** decrypt only: refuse tokens older than this many seconds (and from beyond the clock skew). */
  ttl?: number;
  /** decrypt only: refuse plaintexts containing line breaks (they would break the line mapping). */
  singleLine?: boolean;
}

/**
 * Applies one action to one input line. encrypt: every line is a plaintext (an empty line too);
 * decrypt/rotate: surrounding whitespace is ignored and an empty line stays empty.
 */
export function processLine(action: FernetAction, fernet: MultiFernet, line: number, input: Buffer, options: LineOptions = {}): LineResult {
  if (action === 'encrypt') return { line, kind: 'ok', output: Buffer.from(fernet.encrypt(input), 'ascii') };
  const token = input.toString('latin1').trim();
  if (token === '') return { line, kind: 'blank' };
  try {
    if (action === 'rotate') return { line, kind: 'ok', output: Buffer.from(fernet.rotate(token), 'ascii') };
    const plaintext = fernet.decrypt(token, options.ttl ?? null);
    if (options.singleLine && (plaintext.includes(0x0a) || plaintext.includes(0x0d))) {
      plaintext.fill(0);
      return { line, kind: 'error', reason: 'plaintext contains a line break (use --json)' };
    }
    return { line, kind: 'ok', output: plaintext };
  } catch (e) {
    if (e instanceof InvalidToken) return { line, kind: 'error', reason: 'invalid token' };
    throw e;
  }
}

/**
 * Keys from configuration: a string (one key, or a comma-separated list as in `FERNET_KEYS`
 * settings) or a list of strings; the first key encrypts. `source` names where they came from in
 * errors (a variable or vault key name, never a key).
 */
export function parseFernetKeys(value: unknown, source: string): MultiFernet {
  let keys: unknown[];
  if (typeof value === 'string') keys = value.split(',');
  else if (Array.isArray(value)) keys = value;
  else throw new InvalidToken(`${source} does not hold a Fernet key (expected a string or a list of strings)`);
  const trimmed = keys.map((k) => (typeof k === 'string' ? k.trim() : k)).filter((k) => k !== '');
  if (trimmed.length === 0) throw new InvalidToken(`${source} is empty`);
  return new MultiFernet(
    trimmed.map((key, index) => {
      try {
        if (typeof key !== 'string') throw new InvalidToken();
        return new Fernet(key);
      } catch (e) {
        if (!(e instanceof InvalidToken)) throw e;
        const which = trimmed.length > 1 ? `key ${index + 1} of ${trimmed.length}` : 'the key';
        throw new InvalidToken(`${source}: ${which} is not a valid Fernet key (must be 32 url-safe base64-encoded bytes)`);
      }
    }),
  );
}
