/**
 * `vaultsmith status`: each rotating secret's age, period, due date, last rotation and any rotation
 * in flight — from the non-secret history and journal files, so it runs without vault passwords
 * (cron, node_exporter textfile collector).
 */
import { promises as fsp } from 'node:fs';
import { resolve } from 'node:path';
import type { LoadedManifest } from '../manifest/loader.js';
import { assertEnvironment } from '../manifest/resolve.js';
import { parseDuration } from '../rotate/duration.js';
import { historyPath, journalPath, readHistory, readJournal } from '../rotate/state-files.js';

export interface SecretStatus {
  env: string;
  secret: string;
  strategy: string;
  period: string;
  periodSeconds: number;
  /** When the value was last set, generated or rotated (ISO), or null when unknown. */
  lastChangedAt: string | null;
  lastRotatedAt: string | null;
  /** Where lastChangedAt comes from: the history file, or the vault file's mtime as a fallback. */
  source: 'history' | 'file-mtime' | 'unknown';
  ageSeconds: number | null;
  dueAt: string | null;
  overdue: boolean;
  /** Last completed phase of a rotation in flight, or null when none. */
  rotationPhase: string | null;
  rotationInProgress: boolean;
  /** A delivered rotation is waiting for its grace period to end; null otherwise. */
  finishAfter: string | null;
  /** The grace period has ended: `rotate --resume` / `--due` will retire the old credential. */
  graceEnded: boolean;
}

async function mtimeOf(path: string): Promise<Date | null> {
  try {
    return (await fsp.stat(path)).mtime;
  } catch {
    return null;
  }
}

/** Status of every secret with a declared rotation in one environment. */
export async function secretStatuses(loaded: LoadedManifest, env: string, now: Date = new Date()): Promise<SecretStatus[]> {
  assertEnvironment(loaded.manifest, env);
  const history = await readHistory(historyPath(loaded.dir, env), env);
  const journal = await readJournal(journalPath(loaded.dir, env), env);
  const vaultFile = resolve(loaded.dir, loaded.manifest.environments[env]!.vault);
  const vaultMtime = await mtimeOf(vaultFile);
  const out: SecretStatus[] = [];
  for (const [secret, spec] of Object.entries(loaded.manifest.secrets ?? {})) {
    const rotation = spec.rotation;
    if (!rotation) continue;
    const record = history.secrets[secret];
    const entry = journal.rotations[secret];
    // A delivered value is live even while the old one waits out its grace period.
    const delivered = entry?.deliveredAt ? new Date(entry.deliveredAt) : null;
    const recorded = record ? new Date(record.lastChangedAt) : null;
    const changed = delivered && (!recorded || delivered > recorded) ? delivered : (recorded ?? vaultMtime);
    const source: SecretStatus['source'] = delivered || record ? 'history' : vaultMtime ? 'file-mtime' : 'unknown';
    const periodMs = parseDuration(rotation.period, 'period');
    const due = changed ? new Date(changed.getTime() + periodMs) : null;
    const finishAfter = entry?.phase === 'deliver' && entry.finishAfter ? entry.finishAfter : null;
    out.push({
      env,
      secret,
      strategy: rotation.strategy,
      period: rotation.period,
      periodSeconds: periodMs / 1000,
      lastChangedAt: changed ? changed.toISOString() : null,
      lastRotatedAt: record?.lastRotatedAt ?? null,
      source,
      ageSeconds: changed ? Math.max(0, Math.floor((now.getTime() - changed.getTime()) / 1000)) : null,
      dueAt: due ? due.toISOString() : null,
      overdue: due ? now >= due : false,
      rotationPhase: entry ? (entry.phase ?? 'started') : null,
      rotationInProgress: Boolean(entry),
      finishAfter,
      graceEnded: finishAfter !== null && now >= new Date(finishAfter),
    });
  }
  return out;
}

function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Prometheus text exposition format (for node_exporter's textfile collector). */
export function renderPrometheus(statuses: SecretStatus[]): string {
  const metrics: Array<{ name: string; help: string; value: (s: SecretStatus) => number | null }> = [
    { name: 'vaultsmith_secret_age_seconds', help: 'Seconds since the secret was last set or rotated.', value: (s) => s.ageSeconds },
    { name: 'vaultsmith_secret_rotation_period_seconds', help: 'Declared rotation period.', value: (s) => s.periodSeconds },
    { name: 'vaultsmith_secret_due_timestamp_seconds', help: 'Unix time the next rotation is due.', value: (s) => (s.dueAt ? Math.floor(Date.parse(s.dueAt) / 1000) : null) },
    {
      name: 'vaultsmith_secret_last_rotation_timestamp_seconds',
      help: 'Unix time of the last completed rotation (0 when never rotated).',
      value: (s) => (s.lastRotatedAt ? Math.floor(Date.parse(s.lastRotatedAt) / 1000) : 0),
    },
    { name: 'vaultsmith_secret_overdue', help: '1 when the rotation period has passed.', value: (s) => (s.overdue ? 1 : 0) },
    { name: 'vaultsmith_rotation_in_progress', help: '1 while a rotation is pending (interrupted or in its grace period).', value: (s) => (s.rotationInProgress ? 1 : 0) },
  ];
  const lines: string[] = [];
  for (const m of metrics) {
    lines.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} gauge`);
    for (const s of statuses) {
      const value = m.value(s);
      if (value === null) continue;
      lines.push(`${m.name}{env="${label(s.env)}",secret="${label(s.secret)}",strategy="${label(s.strategy)}"} ${value}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
