import { promises as fsp, constants as fsc } from 'node:fs';
import { VaultsmithError } from '../errors.js';

/** A lock file without a readable pid older than this is treated as abandoned. */
const UNREADABLE_LOCK_STALE_MS = 60_000;

export function lockPathFor(targetPath: string): string {
  return `${targetPath}.vaultsmith-lock`;
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function tryCreateLock(lockPath: string): Promise<boolean> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(lockPath, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
    await fh.writeFile(`${process.pid}\n`);
    await fh.sync();
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new VaultsmithError('IO', `cannot create lock file ${lockPath}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, {
      cause: e,
    });
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** Returns a reason the existing lock is still held, or null if it is stale (its owner is gone). */
async function heldBy(lockPath: string): Promise<string | null> {
  let text: string;
  let mtimeMs: number;
  try {
    text = await fsp.readFile(lockPath, 'utf8');
    mtimeMs = (await fsp.stat(lockPath)).mtimeMs;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null; // released meanwhile
    throw new VaultsmithError('IO', `cannot read lock file ${lockPath}`, { cause: e });
  }
  const pid = Number.parseInt(text.trim(), 10);
  if (Number.isInteger(pid) && pid > 0) return processIsAlive(pid) ? `process ${pid}` : null;
  // Empty content can be a lock being written right now; only old ones are abandoned.
  return Date.now() - mtimeMs > UNREADABLE_LOCK_STALE_MS ? null : 'another process';
}

/**
 * Runs `fn` holding an exclusive advisory lock on `targetPath`: a lock file next to it
 * (`<target>.vaultsmith-lock`, created with O_EXCL, holding our pid). A lock whose process is dead is
 * taken over; a live one fails at once with CONFLICT instead of waiting, so two editors never race.
 */
export async function withFileLock<T>(targetPath: string, fn: () => Promise<T>): Promise<T> {
  const lockPath = lockPathFor(targetPath);
  let acquired = await tryCreateLock(lockPath);
  if (!acquired) {
    const holder = await heldBy(lockPath);
    if (holder !== null) {
      throw new VaultsmithError('CONFLICT', `${targetPath} is locked by ${holder} (lock file ${lockPath})`, {
        hint: 'wait for the other edit to finish; remove the lock file only if that process is gone',
      });
    }
    // Stale: remove it and try once more; losing this race to another taker is a normal conflict.
    await fsp.unlink(lockPath).catch(() => undefined);
    acquired = await tryCreateLock(lockPath);
    if (!acquired) {
      throw new VaultsmithError('CONFLICT', `${targetPath} is locked by another process (lock file ${lockPath})`);
    }
  }
  try {
    return await fn();
  } finally {
    await fsp.unlink(lockPath).catch(() => undefined);
  }
}
