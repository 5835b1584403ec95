import { promises as fsp, constants as fsc, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
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
    // The host tells containers sharing a volume apart: a pid is only meaningful on its own host.
    await fh.writeFile(`${process.pid}\n${hostname()}\n`);
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
  const [pidText = '', host = ''] = text.split('\n').map((line) => line.trim());
  const pid = Number.parseInt(pidText, 10);
  if (Number.isInteger(pid) && pid > 0) {
    // Another host (container): its processes cannot be checked from here, so the lock holds.
    if (host && host !== hostname()) return `process ${pid} on ${host}`;
    // Our own pid in a lock we do not hold: a previous process that had it (pid reuse, or pid 1 of
    // a container that was killed), so the lock is stale.
    if (pid === process.pid) return heldLocks.has(resolve(lockPath)) ? `process ${pid} (this one)` : null;
    return processIsAlive(pid) ? `process ${pid}` : null;
  }
  // Empty content can be a lock being written right now; only old ones are abandoned.
  return Date.now() - mtimeMs > UNREADABLE_LOCK_STALE_MS ? null : 'another process';
}

/**
 * Takes the exclusive advisory lock on `targetPath`: a lock file next to it
 * (`<target>.vaultsmith-lock`, created with O_EXCL, holding our pid). A lock whose process is dead is
 * taken over; a live one fails at once with CONFLICT instead of waiting, so two editors never race.
 * Returns the release function.
 */
async function acquireFileLock(targetPath: string): Promise<() => Promise<void>> {
  const lockPath = lockPathFor(targetPath);
  let acquired = await tryCreateLock(lockPath);
  if (!acquired) {
    const holder = await heldBy(lockPath);
    if (holder !== null) {
      throw new VaultsmithError('CONFLICT', `${targetPath} is locked by ${holder} (lock file ${lockPath})`, {
        hint: 'wait for the other vaultsmith command to finish; remove the lock file only if that process is gone',
      });
    }
    // Stale: remove it and try once more; losing this race to another taker is a normal conflict.
    await fsp.unlink(lockPath).catch(() => undefined);
    acquired = await tryCreateLock(lockPath);
    if (!acquired) {
      throw new VaultsmithError('CONFLICT', `${targetPath} is locked by another process (lock file ${lockPath})`);
    }
  }
  heldLocks.add(resolve(lockPath));
  return async () => {
    heldLocks.delete(resolve(lockPath));
    await fsp.unlink(lockPath).catch(() => undefined);
  };
}

/** Lock files this process holds right now (absolute paths). */
const heldLocks = new Set<string>();

/**
 * Removes every lock this process holds, synchronously: for signal handlers that end the process
 * (async work may never run then). A lock left by a dead process would be taken over anyway; this
 * just leaves no litter.
 */
export function releaseHeldLocksSync(): void {
  for (const lockPath of heldLocks) rmSync(lockPath, { force: true });
  heldLocks.clear();
}

/** Runs `fn` holding the lock on `targetPath` (see acquireFileLock). */
export async function withFileLock<T>(targetPath: string, fn: () => Promise<T>): Promise<T> {
  const release = await acquireFileLock(targetPath);
  try {
    return await fn();
  } finally {
    await release();
  }
}

/**
 * A lock file that cannot be created where the target lives (missing or read-only directory) guards
 * nothing: no other vaultsmith process can change a file there either. The command goes on and
 * reports its own error (e.g. "cannot write ...") when it tries to write.
 */
function unlockable(e: unknown): () => Promise<void> {
  const code = ((e as { cause?: NodeJS.ErrnoException }).cause ?? {}).code;
  if (e instanceof VaultsmithError && e.code === 'IO' && ['ENOENT', 'ENOTDIR', 'EACCES', 'EPERM', 'EROFS'].includes(code ?? '')) {
    return () => Promise.resolve();
  }
  throw e;
}

/**
 * withFileLock over several targets (batch commands that rewrite files in place): all locks or none.
 * They are taken in parallel (nobody waits for a lock, so the order cannot deadlock); when one is
 * held, those already taken are released and its CONFLICT is thrown.
 */
export async function withFileLocks<T>(targetPaths: readonly string[], fn: () => Promise<T>): Promise<T> {
  // One lock per file however it was named; messages keep the name the user gave.
  const byFile = new Map<string, string>();
  for (const path of targetPaths) if (!byFile.has(resolve(path))) byFile.set(resolve(path), path);
  const results = await Promise.allSettled([...byFile.values()].map((path) => acquireFileLock(path).catch(unlockable)));
  const releases = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  try {
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
    return await fn();
  } finally {
    await Promise.all(releases.map((release) => release()));
  }
}
