import { randomBytes } from 'node:crypto';
import { promises as fsp, constants as fsc } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { VaultsmithError } from '../errors.js';

export interface SafeWriteOptions {
  /** Mode for a new file (default 0o600). An existing file keeps its mode and owner. */
  mode?: number;
  /** Fail if the target exists (exclusive create semantics for the final name). */
  exclusive?: boolean;
  /**
   * Runs once the new content is durable in its temp file, just before it replaces the target: a
   * read-modify-write caller checks here that nobody changed the target meanwhile (throwing aborts
   * the write; the target stays as it is).
   */
  beforeReplace?: () => Promise<void>;
}

/** Makes a rename in `dir` durable; a no-op where the filesystem cannot fsync a directory. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, fsc.O_RDONLY);
    await fh.sync();
  } catch {
    // Some filesystems do not support fsync on directories; the rename is still atomic.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/**
 * The one way vaultsmith writes a file: a temp file in the same directory, created exclusively with
 * mode 0600, written, fsynced, given the original file's mode and owner, renamed over the target, and
 * the directory fsynced. A failure at any point leaves the target untouched and removes the temp file.
 */
export async function safeWrite(path: string, data: string | Uint8Array, options: SafeWriteOptions = {}): Promise<void> {
  const dir = dirname(path);
  let existing: import('node:fs').Stats | undefined;
  try {
    existing = await fsp.stat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError('cannot stat', path, e);
  }
  if (existing && options.exclusive) {
    throw new VaultsmithError('IO', `${path} already exists`, { hint: 'refusing to overwrite' });
  }
  if (existing && !existing.isFile()) throw new VaultsmithError('IO', `${path} is not a regular file`);
  const tmp = join(dir, `.${basename(path)}.vs-${randomBytes(6).toString('hex')}.tmp`);
  let fh: fsp.FileHandle | undefined;
  let created = false;
  try {
    fh = await fsp.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
    created = true;
    await fh.writeFile(data);
    await fh.sync();
    if (existing) {
      await fh.chmod(existing.mode & 0o7777);
      if (process.getuid?.() === 0 || existing.uid === process.getuid?.()) {
        await fh.chown(existing.uid, existing.gid).catch(() => undefined);
      }
    } else if (options.mode !== undefined && options.mode !== 0o600) {
      await fh.chmod(options.mode);
    }
    await fh.close();
    fh = undefined;
    await options.beforeReplace?.();
    if (options.exclusive) {
      // link() fails if the target appeared meanwhile, unlike rename().
      await fsp.link(tmp, path);
      await fsp.unlink(tmp);
    } else {
      await fsp.rename(tmp, path);
    }
    created = false;
    await fsyncDir(dir);
  } catch (e) {
    if (e instanceof VaultsmithError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'EEXIST' && options.exclusive) {
      throw new VaultsmithError('IO', `${path} already exists`, { hint: 'refusing to overwrite' });
    }
    throw ioError('cannot write', path, e);
  } finally {
    await fh?.close().catch(() => undefined);
    if (created) await fsp.unlink(tmp).catch(() => undefined);
  }
}

export function ioError(what: string, path: string, e: unknown): VaultsmithError {
  const code = (e as NodeJS.ErrnoException)?.code;
  const reason =
    code === 'ENOENT'
      ? 'no such file or directory'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'is a directory'
          : code === 'ENOTDIR'
            ? 'a path component is not a directory'
            : code === 'ENOSPC'
              ? 'no space left on device'
              : code ?? (e instanceof Error ? e.message : String(e));
  return new VaultsmithError('IO', `${what} ${path}: ${reason}`, { cause: e });
}

/** Reads a whole file, mapping errors to one-line VaultsmithErrors. */
export async function readFileOrThrow(path: string): Promise<Buffer> {
  try {
    return await fsp.readFile(path);
  } catch (e) {
    throw ioError('cannot read', path, e);
  }
}
