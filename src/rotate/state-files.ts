/**
 * The two non-secret state files next to the manifest, in `.vaultsmith/`:
 *  - `rotation-<env>.json`: the journal of rotations in flight (which phase is done; never a value);
 *  - `history-<env>.json`: when each secret was last set or rotated, for `status`.
 * Both are written with safeWrite (atomic, fsynced), so a crash leaves the old or the new version.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { VaultsmithError } from '../errors.js';
import { ioError, safeWrite } from '../internal/safe-write.js';
import type { Phase, RotationStrategyName } from './types.js';

export const STATE_DIR = '.vaultsmith';

export function journalPath(manifestDir: string, env: string): string {
  return join(manifestDir, STATE_DIR, `rotation-${env}.json`);
}

export function historyPath(manifestDir: string, env: string): string {
  return join(manifestDir, STATE_DIR, `history-${env}.json`);
}

export interface JournalEntry {
  strategy: RotationStrategyName;
  startedAt: string;
  /** The last phase completed; null right after the rotation was started. */
  phase: Phase | null;
  deliveredAt?: string;
  /** When the old credential may be retired (deliveredAt + grace). */
  finishAfter?: string;
  /** Non-secret progress inside a phase (e.g. re-encryption position). */
  state: Record<string, unknown>;
}

export interface Journal {
  version: 1;
  env: string;
  rotations: Record<string, JournalEntry>;
}

async function readJson<T>(path: string): Promise<T | null> {
  let text: string;
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw ioError('cannot read', path, e);
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new VaultsmithError('INPUT', `${path} is not valid JSON`, { hint: 'restore it from version control or remove it' });
  }
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await fsp.mkdir(join(path, '..'), { recursive: true, mode: 0o700 }).catch((e) => {
    throw ioError('cannot create', join(path, '..'), e);
  });
  await safeWrite(path, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o644 });
}

export async function readJournal(path: string, env: string): Promise<Journal> {
  return (await readJson<Journal>(path)) ?? { version: 1, env, rotations: {} };
}

export async function writeJournal(path: string, journal: Journal): Promise<void> {
  if (Object.keys(journal.rotations).length === 0) {
    await fsp.rm(path, { force: true }).catch((e) => {
      throw ioError('cannot remove', path, e);
    });
    return;
  }
  await writeJson(path, journal);
}

export type ChangeKind = 'init' | 'set' | 'rotate' | 'generate';

export interface HistoryEvent {
  at: string;
  via: ChangeKind;
  strategy?: string;
}

export interface SecretHistory {
  lastChangedAt: string;
  lastRotatedAt?: string;
  events: HistoryEvent[];
}

export interface History {
  version: 1;
  env: string;
  secrets: Record<string, SecretHistory>;
}

const MAX_EVENTS = 20;

export async function readHistory(path: string, env: string): Promise<History> {
  return (await readJson<History>(path)) ?? { version: 1, env, secrets: {} };
}

/**
 * Records that secrets of an environment were (re)set. `init` and `set` call this after a successful
 * vault write so `status` can report each secret's age; `rotate` calls it when a rotation completes.
 */
export async function recordSecretChanges(
  manifestDir: string,
  env: string,
  keys: string[],
  via: ChangeKind,
  options: { at?: Date; strategy?: string } = {},
): Promise<void> {
  const path = historyPath(manifestDir, env);
  const history = await readHistory(path, env);
  const at = (options.at ?? new Date()).toISOString();
  for (const key of keys) {
    const entry: SecretHistory = history.secrets[key] ?? { lastChangedAt: at, events: [] };
    entry.lastChangedAt = at;
    if (via === 'rotate') entry.lastRotatedAt = at;
    entry.events = [...entry.events, { at, via, ...(options.strategy ? { strategy: options.strategy } : {}) }].slice(-MAX_EVENTS);
    history.secrets[key] = entry;
  }
  await writeJson(path, history);
}
