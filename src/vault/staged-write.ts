/**
 * Atomic replacement of many files at once, for batch commands such as `rekey`: each new content is
 * first staged (0600 temp file next to its target, written, fsynced, given the target's mode and
 * owner) while other work is still running, and only when every file is staged are they renamed
 * over their targets, followed by one fsync per directory (not one per file as with safeWrite).
 * A failure while staging leaves every target untouched and removes the temp files.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsc, promises as fsp, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { VaultsmithError } from '../errors.js';
import { fsyncDir, ioError } from '../internal/safe-write.js';

export interface StagedFile {
  /** The file that commitStaged replaces. */
  readonly target: string;
  /** The fsynced temp file in the target's directory. */
  readonly tmp: string;
}

/** Writes `data` to a temp file next to `target` (whose mode and owner it takes); the target is untouched. */
export async function stageFile(
  target: string,
  data: Uint8Array,
  options: { mode?: number; /** Told the temp path before it is created (signal-time cleanup lists). */ onTemp?: (tmp: string) => void } = {},
): Promise<StagedFile> {
  let existing: Stats | undefined;
  try {
    existing = await fsp.stat(target);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError('cannot stat', target, e);
  }
  if (existing && !existing.isFile()) throw new VaultsmithError('IO', `${target} is not a regular file`);
  const tmp = join(dirname(target), `.${basename(target)}.vs-${randomBytes(6).toString('hex')}.tmp`);
  let handle: fsp.FileHandle | undefined;
  let created = false;
  options.onTemp?.(tmp);
  try {
    handle = await fsp.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
    created = true;
    await handle.writeFile(data);
    await handle.sync();
    if (existing) {
      if (process.getuid?.() === 0 || existing.uid === process.getuid?.()) {
        await handle.chown(existing.uid, existing.gid).catch(() => undefined);
      }
      // After chown, which may clear set-id bits.
      await handle.chmod(existing.mode & 0o7777);
    } else if (options.mode !== undefined && options.mode !== 0o600) {
      await handle.chmod(options.mode);
    }
    await handle.close();
    handle = undefined;
    created = false;
    return { target, tmp };
  } catch (e) {
    throw e instanceof VaultsmithError ? e : ioError('cannot write', target, e);
  } finally {
    await handle?.close().catch(() => undefined);
    if (created) await fsp.unlink(tmp).catch(() => undefined);
  }
}

/** Removes staged temp files (their targets stay as they were). */
export async function discardStaged(staged: readonly StagedFile[]): Promise<void> {
  await Promise.all(staged.map((s) => fsp.unlink(s.tmp).catch(() => undefined)));
}

/**
 * Renames every staged file over its target, in order, then fsyncs each directory once. If a
 * rename fails, the files not yet renamed keep their old content and their temp files are removed.
 */
export async function commitStaged(staged: readonly StagedFile[]): Promise<void> {
  for (let i = 0; i < staged.length; i++) {
    const s = staged[i]!;
    try {
      await fsp.rename(s.tmp, s.target);
    } catch (e) {
      await discardStaged(staged.slice(i));
      throw ioError('cannot write', s.target, e);
    }
  }
  await Promise.all([...new Set(staged.map((s) => dirname(s.target)))].map(fsyncDir));
}
