import type { Readable, Writable } from 'node:stream';
import { VaultsmithError } from '../errors.js';

/**
 * Reading from a context's stdin in pieces: prompts take one line, then a command may read the rest
 * (e.g. `--vault-id @prompt` followed by `encrypt -`). Unread bytes are put back with `unshift`, so
 * several readers can share one stream.
 */

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (chunk instanceof Uint8Array) return Buffer.from(chunk);
  return Buffer.from(String(chunk), 'utf8');
}

/** Waits for the next chunk, or null at end of stream. */
function nextChunk(stream: Readable): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    if (stream.readableEnded || (stream.destroyed && stream.readableLength === 0)) {
      resolve(null);
      return;
    }
    const first = stream.read();
    if (first !== null) {
      resolve(toBuffer(first));
      return;
    }
    const cleanup = () => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('close', onEnd);
      stream.off('error', onError);
    };
    const onReadable = () => {
      const chunk = stream.read();
      if (chunk === null) return; // end is signalled separately
      cleanup();
      resolve(toBuffer(chunk));
    };
    const onEnd = () => {
      cleanup();
      resolve(null);
    };
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    stream.on('readable', onReadable);
    stream.on('end', onEnd);
    stream.on('close', onEnd);
    stream.on('error', onError);
  });
}

/**
 * Reads one line (without its `\n` / `\r\n`); returns null if the stream ended before any byte.
 * Bytes after the newline are pushed back for the next reader.
 */
export async function readLine(stream: Readable): Promise<Buffer | null> {
  const parts: Buffer[] = [];
  for (;;) {
    const chunk = await nextChunk(stream);
    if (chunk === null) {
      if (parts.length === 0) return null;
      return Buffer.concat(parts);
    }
    if (chunk.length === 0) continue;
    const nl = chunk.indexOf(0x0a);
    if (nl === -1) {
      parts.push(chunk);
      continue;
    }
    parts.push(chunk.subarray(0, nl));
    const rest = chunk.subarray(nl + 1);
    if (rest.length) stream.unshift(rest);
    let line = Buffer.concat(parts);
    if (line.length && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    return line;
  }
}

/** Reads everything that is left on the stream. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (;;) {
    const chunk = await nextChunk(stream);
    if (chunk === null) return Buffer.concat(parts);
    parts.push(chunk);
  }
}

type TtyReadable = Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };

/**
 * Reads a secret from a terminal without echo (raw mode), handling backspace, Ctrl-C and Ctrl-D.
 * The prompt goes to `output` (stderr) so stdout stays clean for data.
 */
function readHiddenFromTty(stdin: TtyReadable, output: Writable, prompt: string): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const typed: number[] = [];
    const wasRaw = (stdin as { isRaw?: boolean }).isRaw ?? false;
    // Echo goes off before the prompt appears, so nothing typed or pasted early is shown.
    stdin.setRawMode?.(true);
    output.write(prompt);
    stdin.resume();
    const finish = (result: Buffer | null, error?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode?.(wasRaw);
      stdin.pause();
      output.write('\n');
      if (error) reject(error);
      else resolve(result);
    };
    const onData = (data: Buffer | string) => {
      for (const byte of toBuffer(data)) {
        if (byte === 0x0d || byte === 0x0a) return finish(Buffer.from(typed.splice(0)));
        if (byte === 0x03) {
          typed.fill(0);
          return finish(null, new VaultsmithError('USAGE', 'interrupted at the password prompt'));
        }
        if (byte === 0x04) {
          if (typed.length === 0) return finish(null);
          return finish(Buffer.from(typed.splice(0)));
        }
        if (byte === 0x7f || byte === 0x08) typed.pop();
        else typed.push(byte);
      }
    };
    stdin.on('data', onData);
  });
}

/**
 * Asks for one line of input. On a TTY the input is hidden unless `echo` is set; otherwise one line
 * is read from the stream (automation and tests pipe passwords this way). Null means end of input.
 */
export async function promptLine(
  ctx: { stdin: Readable; stderr: Writable },
  prompt: string,
  options: { echo?: boolean } = {},
): Promise<Buffer | null> {
  const stdin = ctx.stdin as TtyReadable;
  if (stdin.isTTY && typeof stdin.setRawMode === 'function' && !options.echo) {
    return readHiddenFromTty(stdin, ctx.stderr, prompt);
  }
  if (stdin.isTTY) ctx.stderr.write(prompt);
  return readLine(stdin);
}
