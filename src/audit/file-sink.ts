import { createHmac, timingSafeEqual } from 'node:crypto';
import { promises as fsp, constants as fsc } from 'node:fs';
import { dirname } from 'node:path';
import { VaultsmithError } from '../errors.js';
import { safeWrite } from '../internal/safe-write.js';
import { GENESIS, macMatches, sealEvent, type AuditEvent, type ChainHead } from './event.js';

/**
 * The JSON-lines sink. Events are appended (O_APPEND + fsync) rather than written through safeWrite:
 * an audit log must only ever grow, and rewriting it whole would open a window where history is lost.
 * `<log>.head` holds the last seq and MAC, itself MACed, so a truncated tail is detected.
 */

const LOCK_WAIT_MS = 10_000;

function headPath(file: string): string {
  return `${file}.head`;
}

function headMac(key: Buffer, head: ChainHead): string {
  return createHmac('sha256', key).update(`vaultsmith-audit-head-v1\n${head.seq}\n${head.mac}`).digest('hex');
}

function auditIoError(what: string, path: string, e: unknown): VaultsmithError {
  const code = (e as NodeJS.ErrnoException)?.code ?? (e instanceof Error ? e.message : String(e));
  return new VaultsmithError('AUDIT', `audit log ${path}: ${what} failed (${code}); refusing the operation`, {
    cause: e,
    hint: 'fix the audit sink (see vaultsmith audit --help) or disable auditing explicitly with VAULTSMITH_AUDIT=off',
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function lockIsStale(lock: string): Promise<boolean> {
  const holder = Number((await fsp.readFile(lock, 'utf8').catch(() => '')).trim());
  const st = await fsp.stat(lock).catch(() => null);
  if (!st) return false;
  // Stale: its process is gone, or it is older than any append could take (crash before the pid was written).
  return (Number.isInteger(holder) && holder > 0 && !pidAlive(holder)) || Date.now() - st.mtimeMs > 2 * LOCK_WAIT_MS;
}

/**
 * Removes a stale lock. Only the holder of `<lock>.break` may do so, and it re-checks staleness while
 * holding it, so two waiters can never both "take over" (one removing the other's fresh lock).
 */
async function breakStaleLock(lock: string): Promise<boolean> {
  if (!(await lockIsStale(lock))) return false;
  const breaker = `${lock}.break`;
  try {
    await (await fsp.open(breaker, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600)).close();
  } catch {
    const st = await fsp.stat(breaker).catch(() => null);
    if (st && Date.now() - st.mtimeMs > LOCK_WAIT_MS) await fsp.unlink(breaker).catch(() => undefined);
    return false;
  }
  try {
    if (!(await lockIsStale(lock))) return false;
    await fsp.unlink(lock).catch(() => undefined);
    return true;
  } finally {
    await fsp.unlink(breaker).catch(() => undefined);
  }
}

/** A short exclusive lock around append so concurrent writers cannot fork the chain. */
async function withAppendLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${file}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const fh = await fsp.open(lock, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw auditIoError('locking', file, e);
      if (await breakStaleLock(lock)) continue;
      if (Date.now() > deadline) throw auditIoError('locking (lock held)', file, e);
      await new Promise((r) => setTimeout(r, 15));
    }
  }
  try {
    return await fn();
  } finally {
    await fsp.unlink(lock).catch(() => undefined);
  }
}

/** The last complete line of the log, read from its tail only (logs grow without bound). */
async function readLastEvent(file: string): Promise<AuditEvent | null> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw auditIoError('reading', file, e);
  }
  try {
    const { size } = await fh.stat();
    if (size === 0) return null;
    let chunk = 4096;
    for (;;) {
      const start = Math.max(0, size - chunk);
      const buf = Buffer.alloc(size - start);
      await fh.read(buf, 0, buf.length, start);
      if (buf[buf.length - 1] !== 0x0a) {
        throw new VaultsmithError('AUDIT', `audit log ${file} ends with a partial line (torn write or truncation); refusing to extend it`, {
          hint: "run 'vaultsmith audit verify' and repair or move the log aside",
        });
      }
      const text = buf.toString('utf8', 0, buf.length - 1);
      const nl = text.lastIndexOf('\n');
      if (nl >= 0 || start === 0) {
        const line = text.slice(nl + 1);
        try {
          return JSON.parse(line) as AuditEvent;
        } catch {
          throw new VaultsmithError('AUDIT', `audit log ${file}: the last line is not an audit event; refusing to extend it`, {
            hint: "run 'vaultsmith audit verify'",
          });
        }
      }
      chunk *= 4;
    }
  } finally {
    await fh.close();
  }
}

/** Checks that the log's directory and file can be written, without writing an event. */
export async function preflightFileSink(file: string): Promise<void> {
  try {
    await fsp.mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const fh = await fsp.open(file, fsc.O_WRONLY | fsc.O_APPEND | fsc.O_CREAT, 0o600);
    await fh.close();
  } catch (e) {
    throw auditIoError('opening', file, e);
  }
}

/** True when the log already holds something (events sealed with some key). */
export async function fileSinkHasEvents(file: string): Promise<boolean> {
  const st = await fsp.stat(file).catch(() => null);
  return st !== null && st.size > 0;
}

export async function appendFileEvent(file: string, key: Buffer, body: Omit<AuditEvent, 'v' | 'seq' | 'prev' | 'mac'>): Promise<AuditEvent> {
  await preflightFileSink(file);
  return withAppendLock(file, async () => {
    const last = await readLastEvent(file);
    // Sealing with another key than the log's would break the chain for everyone from here on
    // (a teammate's different key file, a typo in VAULTSMITH_AUDIT_KEY_FILE): refuse, fail closed.
    if (last && !macMatches(key, last)) {
      throw new VaultsmithError('AUDIT', `the audit key does not match the key that sealed the last event of ${file}; refusing to extend the log`, {
        hint: "use the team's audit key file (VAULTSMITH_AUDIT_KEY_FILE or audit.key_file), or run 'vaultsmith audit verify' if the log itself was changed",
      });
    }
    const event = sealEvent(key, body, last?.seq ?? 0, last?.mac ?? GENESIS);
    try {
      const fh = await fsp.open(file, fsc.O_WRONLY | fsc.O_APPEND | fsc.O_CREAT, 0o600);
      try {
        await fh.write(`${JSON.stringify(event)}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
    } catch (e) {
      throw auditIoError('appending', file, e);
    }
    const head: ChainHead = { seq: event.seq, mac: event.mac };
    try {
      await safeWrite(headPath(file), `${JSON.stringify({ ...head, head_mac: headMac(key, head) })}\n`, { mode: 0o600 });
    } catch (e) {
      throw auditIoError('writing the head anchor of', file, e);
    }
    return event;
  });
}

export type ParsedLine = AuditEvent | { unparsable: string };

/** Reads every event; lines that are not JSON (or a torn last line) become `unparsable` entries. */
export async function readFileEvents(file: string): Promise<ParsedLine[]> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw auditIoError('reading', file, e);
  }
  if (text === '') return [];
  const lines = text.split('\n');
  const torn = lines[lines.length - 1] !== '';
  if (!torn) lines.pop();
  return lines.map((line, i) => {
    if (torn && i === lines.length - 1) return { unparsable: 'partial last line (log truncated mid-event)' };
    try {
      const parsed = JSON.parse(line) as unknown;
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return { unparsable: 'line is not an audit event' };
      return parsed as AuditEvent;
    } catch {
      return { unparsable: 'line is not valid JSON' };
    }
  });
}

/** The head anchor, or null when missing; a forged or damaged anchor is an error. */
export async function readFileHead(file: string, key: Buffer): Promise<ChainHead | 'missing' | 'invalid'> {
  let text: string;
  try {
    text = await fsp.readFile(headPath(file), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw auditIoError('reading the head anchor of', file, e);
  }
  try {
    const parsed = JSON.parse(text) as { seq: number; mac: string; head_mac: string };
    const expected = Buffer.from(headMac(key, { seq: parsed.seq, mac: parsed.mac }), 'hex');
    const given = Buffer.from(String(parsed.head_mac), 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
    return { seq: parsed.seq, mac: parsed.mac };
  } catch {
    return 'invalid';
  }
}
