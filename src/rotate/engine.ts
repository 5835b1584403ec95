/**
 * The rotation phase machine. Order: prepare (new value stored as pending in the encrypted vault,
 * before any service is touched) → apply → test → deliver (promote, re-derive, sync, restart) →
 * finish (retire the old credential after the grace period) → record. A non-secret journal says
 * which phase is done; each phase looks at the vault and the service before it changes anything,
 * so after a crash `resume` can run it again and `abort` can undo what was done.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Document } from 'yaml';
import { isMap } from 'yaml';
import { VaultsmithError, isVaultsmithError } from '../errors.js';
import { withFileLock } from '../internal/file-lock.js';
import { parseDuration } from './duration.js';
import {
  journalPath,
  readHistory,
  readJournal,
  recordSecretChanges,
  historyPath,
  writeJournal,
  type Journal,
  type JournalEntry,
} from './state-files.js';
import { getStrategy } from './strategies/index.js';
import { PHASES, type Phase, type RotationSpec, type RotationStrategy, type StrategyContext } from './types.js';

/** Reserved vault keys (see docs/ROTATION.md); `check` ignores keys with the `vaultsmith_` prefix. */
export const PENDING_KEY = 'vaultsmith_pending';
export const PREVIOUS_KEY = 'vaultsmith_previous';

/** Test hook: `VAULTSMITH_FAULT_KILL_AFTER_PHASE=<point>` makes the process SIGKILL itself there. */
export const FAULT_ENV = 'VAULTSMITH_FAULT_KILL_AFTER_PHASE';
/** Every point the fault hook can kill at, in the order a rotation passes them. */
export const FAULT_POINTS = [
  'start',
  'prepare:stored',
  'prepare',
  'apply',
  'test',
  'deliver:promoted',
  'deliver',
  'finish:retired',
  'finish',
  'record',
] as const;

export interface RotationVault {
  /** The decrypted vault's top-level values. */
  read(): Promise<Record<string, unknown>>;
  /** Edits the vault document (comments kept), re-encrypts and writes atomically. */
  update(mutate: (doc: Document) => void): Promise<void>;
}

/** Everything the engine needs about one secret of one environment; built by services/rotate.ts. */
export interface RotationTarget {
  env: string;
  manifestDir: string;
  secretKey: string;
  spec: RotationSpec;
  vault: RotationVault;
  /** Contract variables rendered with these values (templated vault keys re-derived first). */
  renderVariables(values: Record<string, unknown>): Record<string, string>;
  /** Templated vault keys that depend on the secret, re-rendered from these values. */
  deriveKeys(values: Record<string, unknown>): Record<string, string>;
  generateBase(): string;
  /**
   * Delivers the vault's values to the running services (podman sync, restarts, health checks);
   * progress goes to `log` so it lands in the rotation's steps (and --json), not only on stderr.
   */
  deliver(values: Record<string, unknown>, log: (message: string) => void): Promise<void>;
  /** What `deliver` will do, for --dry-run (e.g. 'sync the Podman secrets', 'restart django'). */
  deliveryPlan?: string[];
  /** A caveat about delivery shown by --dry-run (e.g. variables that podman sync does not carry). */
  deliveryNote?: string;
  adminUrl?: string;
  processEnv: NodeJS.ProcessEnv;
  cwd: string;
  log(message: string): void;
  /** Audit hook (names only, never values). */
  audit?(event: { action: string; outcome: 'ok' | 'error'; detail?: string }): Promise<void>;
  now?(): Date;
}

export type RotationStatus = 'completed' | 'in-grace' | 'aborted' | 'dry-run';

export interface RotationResult {
  env: string;
  secret: string;
  strategy: string;
  status: RotationStatus;
  /** Last phase completed. */
  phase: Phase | null;
  finishAfter?: string;
  /** Human-readable steps taken (never values). */
  steps: string[];
}

function reservedValue(values: Record<string, unknown>, reservedKey: string, key: string): string | undefined {
  const map = values[reservedKey];
  if (map === null || typeof map !== 'object' || Array.isArray(map)) return undefined;
  const value = (map as Record<string, unknown>)[key];
  return value === undefined || value === null ? undefined : String(value);
}

function deleteReserved(doc: Document, reservedKey: string, key: string): void {
  doc.deleteIn([reservedKey, key]);
  const map = doc.get(reservedKey);
  if (isMap(map) && map.items.length === 0) doc.delete(reservedKey);
}

function currentValue(target: RotationTarget, values: Record<string, unknown>): string {
  const value = values[target.secretKey];
  if (value === undefined || value === null || value === '') {
    throw new VaultsmithError('INPUT', `the ${target.env} vault has no value for ${target.secretKey} to rotate`, {
      hint: `set one first with 'vaultsmith set ${target.env} ${target.secretKey} --generate'`,
    });
  }
  return String(value);
}

class Rotation {
  readonly strategy: RotationStrategy;
  readonly journalFile: string;
  readonly steps: string[] = [];
  journal!: Journal;
  entry!: JournalEntry;

  constructor(readonly target: RotationTarget) {
    this.strategy = getStrategy(target.spec.strategy);
    this.journalFile = journalPath(target.manifestDir, target.env);
  }

  now(): Date {
    return this.target.now?.() ?? new Date();
  }

  log(message: string): void {
    this.steps.push(message);
    this.target.log(message);
  }

  context(): StrategyContext {
    const t = this.target;
    const ctx: StrategyContext = {
      env: t.env,
      secretKey: t.secretKey,
      spec: t.spec,
      renderVariables: (values) => t.renderVariables(values),
      generateBase: () => t.generateBase(),
      adminUrl: t.adminUrl,
      processEnv: t.processEnv,
      cwd: t.cwd,
      log: (m) => this.log(m),
      state: this.entry?.state ?? {},
      saveState: () => this.saveJournal(),
    };
    return ctx;
  }

  fault(point: string): void {
    const wanted = this.target.processEnv[FAULT_ENV];
    if (!wanted) return;
    const [secret, at] = wanted.includes('@') ? wanted.split('@', 2) : [undefined, wanted];
    if (at === point && (secret === undefined || secret === this.target.secretKey)) {
      // A real crash: no finally blocks, no flushing, no lock release.
      process.kill(process.pid, 'SIGKILL');
    }
  }

  async saveJournal(): Promise<void> {
    await writeJournal(this.journalFile, this.journal);
  }

  async load(): Promise<JournalEntry | undefined> {
    this.journal = await readJournal(this.journalFile, this.target.env);
    return this.journal.rotations[this.target.secretKey];
  }

  /** Runs the phases after the journal's last completed one; stops before finish during the grace period. */
  async runPhases(options: { finishNow?: boolean }): Promise<RotationResult> {
    let index = this.entry.phase === null ? 0 : PHASES.indexOf(this.entry.phase) + 1;
    for (; index < PHASES.length; index++) {
      const phase = PHASES[index]!;
      if (phase === 'finish' && !options.finishNow && this.entry.finishAfter && this.now() < new Date(this.entry.finishAfter)) {
        this.log(`waiting for the grace period: the old credential is retired after ${this.entry.finishAfter} (run --resume then)`);
        return this.result('in-grace');
      }
      try {
        await this.runPhase(phase);
      } catch (e) {
        throw pausedError(e, this.target, this.entry.phase);
      }
      this.entry.phase = phase;
      if (phase === 'record') delete this.journal.rotations[this.target.secretKey];
      await this.saveJournal();
      this.fault(phase);
    }
    return this.result('completed');
  }

  result(status: RotationStatus): RotationResult {
    return {
      env: this.target.env,
      secret: this.target.secretKey,
      strategy: this.strategy.name,
      status,
      phase: this.entry?.phase ?? null,
      ...(this.entry?.finishAfter ? { finishAfter: this.entry.finishAfter } : {}),
      steps: this.steps,
    };
  }

  async runPhase(phase: Phase): Promise<void> {
    const t = this.target;
    const key = t.secretKey;
    const ctx = this.context();
    const values = await t.vault.read();
    const pending = reservedValue(values, PENDING_KEY, key);
    switch (phase) {
      case 'prepare': {
        if (pending !== undefined) {
          this.log(`the new value of ${key} is already stored as pending`);
          return;
        }
        if (reservedValue(values, PREVIOUS_KEY, key) !== undefined) return; // already promoted
        const current = currentValue(t, values);
        const next = this.strategy.generate(ctx, current, values);
        await t.vault.update((doc) => {
          doc.setIn([PENDING_KEY, key], next);
        });
        this.log(`stored the new value of ${key} as pending in the encrypted vault`);
        this.fault('prepare:stored');
        return;
      }
      case 'apply':
      case 'test': {
        if (pending === undefined) return; // promoted already: apply and test were done before
        const v = { values, current: currentValue(t, values), pending };
        if (phase === 'apply') await this.strategy.apply(ctx, v);
        else await this.strategy.test(ctx, v);
        return;
      }
      case 'deliver': {
        if (pending !== undefined) {
          const current = currentValue(t, values);
          const edits = this.strategy.promoteEdits?.(ctx, { values, current, pending }) ?? {};
          const promoted = { ...values, ...edits, [key]: pending };
          const derived = t.deriveKeys(promoted);
          await t.vault.update((doc) => {
            doc.setIn([PREVIOUS_KEY, key], current);
            doc.set(key, pending);
            for (const [k, v] of Object.entries({ ...edits, ...derived })) doc.set(k, v);
            deleteReserved(doc, PENDING_KEY, key);
          });
          this.log(`promoted the new value of ${key} to current (old one kept as previous until finish)`);
          this.fault('deliver:promoted');
        }
        await t.deliver(await t.vault.read(), (m) => this.log(m));
        const now = this.now();
        this.entry.deliveredAt = now.toISOString();
        this.entry.finishAfter = new Date(now.getTime() + parseDuration(t.spec.grace, 'grace')).toISOString();
        return;
      }
      case 'finish': {
        const previous = reservedValue(values, PREVIOUS_KEY, key);
        if (previous !== undefined) {
          const current = currentValue(t, values);
          const edits = (await this.strategy.finish(ctx, { values, current, previous })) ?? {};
          this.fault('finish:retired');
          const after = { ...values, ...edits };
          const derived = t.deriveKeys(after);
          await t.vault.update((doc) => {
            for (const [k, v] of Object.entries({ ...edits, ...derived })) doc.set(k, v);
            deleteReserved(doc, PREVIOUS_KEY, key);
          });
          if (Object.keys(edits).length) {
            this.entry.state.redeliver = true;
            await this.saveJournal();
          }
        }
        if (this.entry.state.redeliver) {
          await t.deliver(await t.vault.read(), (m) => this.log(m));
          delete this.entry.state.redeliver;
        }
        this.log(`retired the previous value of ${key}`);
        return;
      }
      case 'record': {
        const recordAt = typeof this.entry.state.recordAt === 'string' ? this.entry.state.recordAt : this.now().toISOString();
        if (this.entry.state.recordAt === undefined) {
          this.entry.state.recordAt = recordAt;
          await this.saveJournal();
        }
        const history = await readHistory(historyPath(t.manifestDir, t.env), t.env);
        if (history.secrets[key]?.lastRotatedAt !== recordAt) {
          await recordSecretChanges(t.manifestDir, t.env, [key], 'rotate', { at: new Date(recordAt), strategy: this.strategy.name });
        }
        await t.audit?.({ action: 'rotate', outcome: 'ok', detail: this.strategy.name });
        this.log(`recorded the rotation of ${key}`);
        return;
      }
    }
  }
}

/** Adds what to do next to a failure inside a phase: the rotation is paused, not lost. */
function pausedError(e: unknown, target: RotationTarget, done: Phase | null): VaultsmithError {
  const base = isVaultsmithError(e) ? e : new VaultsmithError('INTERNAL', e instanceof Error ? e.message : String(e), { cause: e });
  const hint =
    `the rotation of ${target.secretKey} is paused after phase ${done ?? 'start'}; fix the cause, then run ` +
    `'vaultsmith rotate ${target.env} --resume' (or '--abort' to undo)`;
  return new VaultsmithError(base.code, base.message, { hint: base.hint ? `${base.hint}; ${hint}` : hint, cause: base });
}

async function withJournalLock<T>(target: RotationTarget, fn: () => Promise<T>): Promise<T> {
  const path = journalPath(target.manifestDir, target.env);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  return withFileLock(path, fn);
}

/** Starts a new rotation of one secret (refused while one is pending). */
export async function startRotation(target: RotationTarget, options: { dryRun?: boolean; finishNow?: boolean } = {}): Promise<RotationResult> {
  const rotation = new Rotation(target);
  const run = async () => {
    const existing = await rotation.load();
    const key = target.secretKey;
    if (existing) {
      throw new VaultsmithError('CONFLICT', `a rotation of ${key} in ${target.env} is already in progress (phase done: ${existing.phase ?? 'none'})`, {
        hint: `finish it with 'vaultsmith rotate ${target.env} --resume' or undo it with '--abort'`,
      });
    }
    const values = await target.vault.read();
    if (reservedValue(values, PENDING_KEY, key) !== undefined || reservedValue(values, PREVIOUS_KEY, key) !== undefined) {
      throw new VaultsmithError('CONFLICT', `the ${target.env} vault holds leftover rotation state for ${key} without a journal`, {
        hint: `run 'vaultsmith rotate ${target.env} ${key} --abort' to clear it`,
      });
    }
    currentValue(target, values);
    if (target.spec.strategy === 'manual') rotation.strategy.generate(rotation.context(), '', values);
    // Look first: a service that is down or already refuses the current value is reported before
    // anything is stored, so a failed start leaves no state behind.
    if (rotation.strategy.accepts && !(await rotation.strategy.accepts(rotation.context(), values))) {
      throw new VaultsmithError('EXTERNAL', `the service does not accept the current value of ${key} in ${target.env}; not rotating`, {
        hint: 'fix the current credential first (the vault and the service disagree)',
      });
    }
    if (options.dryRun) {
      rotation.entry = { strategy: rotation.strategy.name, startedAt: rotation.now().toISOString(), phase: null, state: {} };
      if (rotation.strategy.accepts) rotation.log(`${rotation.strategy.name}: the service accepts the current value of ${key}`);
      const delivery = target.deliveryPlan?.length ? target.deliveryPlan.join(', ') : 'nothing to sync or restart';
      const grace = target.spec.grace ? `after the grace period (${target.spec.grace})` : 'at once (no grace period)';
      rotation.log(`would generate a new value of ${key} and store it as pending in the encrypted vault`);
      rotation.log(`would apply and test it (${rotation.strategy.name}), then deliver it: ${delivery}`);
      if (target.deliveryNote) rotation.log(target.deliveryNote);
      rotation.log(`would retire the old credential ${grace} and record the rotation`);
      return rotation.result('dry-run');
    }
    rotation.entry = { strategy: rotation.strategy.name, startedAt: rotation.now().toISOString(), phase: null, state: {} };
    rotation.journal.rotations[key] = rotation.entry;
    await rotation.saveJournal();
    rotation.fault('start');
    return rotation.runPhases(options);
  };
  try {
    return await withJournalLock(target, run);
  } catch (e) {
    // Audit events carry error codes, never messages.
    await target.audit?.({ action: 'rotate', outcome: 'error', detail: isVaultsmithError(e) ? e.code : 'INTERNAL' }).catch(() => undefined);
    throw e;
  }
}

/** Names of the secrets with a rotation in flight in an environment. */
export async function pendingRotations(manifestDir: string, env: string): Promise<Record<string, JournalEntry>> {
  return (await readJournal(journalPath(manifestDir, env), env)).rotations;
}

/** Completes an interrupted rotation from the journal (also finishes one whose grace has passed). */
export async function resumeRotation(target: RotationTarget, options: { finishNow?: boolean } = {}): Promise<RotationResult> {
  const rotation = new Rotation(target);
  return withJournalLock(target, async () => {
    const entry = await rotation.load();
    if (!entry) throw new VaultsmithError('USAGE', `no rotation of ${target.secretKey} is in progress in ${target.env}`);
    rotation.entry = entry;
    entry.state ??= {};
    return rotation.runPhases(options);
  });
}

/**
 * Undoes an interrupted rotation: before promotion, the service is reverted and the pending value
 * dropped, so the old value stays current. After promotion the new value is already live and the old
 * one may already be refused, so undoing would risk a lockout: the rotation is completed instead
 * (delivered, and the old credential retired after the grace period like any rotation).
 */
export async function abortRotation(target: RotationTarget, options: { finishNow?: boolean } = {}): Promise<RotationResult> {
  const rotation = new Rotation(target);
  return withJournalLock(target, async () => {
    const key = target.secretKey;
    const entry = await rotation.load();
    rotation.entry = entry ?? { strategy: rotation.strategy.name, startedAt: rotation.now().toISOString(), phase: null, state: {} };
    rotation.entry.state ??= {};
    const values = await target.vault.read();
    const pending = reservedValue(values, PENDING_KEY, key);
    const previous = reservedValue(values, PREVIOUS_KEY, key);
    if (pending === undefined && previous !== undefined) {
      rotation.log(`the new value of ${key} is already delivered; completing the rotation instead of undoing it`);
      rotation.journal.rotations[key] = rotation.entry;
      if (rotation.entry.phase === null || PHASES.indexOf(rotation.entry.phase) < PHASES.indexOf('test')) rotation.entry.phase = 'test';
      // Completing keeps the grace period: retiring the old credential early is what would log
      // users out (Django fallbacks) or cut off clients not yet restarted; --finish-now skips it.
      return rotation.runPhases({ finishNow: options.finishNow });
    }
    if (pending !== undefined) {
      await rotation.strategy.revert(rotation.context(), { values, current: currentValue(target, values), pending });
      await target.vault.update((doc) => deleteReserved(doc, PENDING_KEY, key));
      rotation.log(`dropped the pending value of ${key}; the current value stays in use`);
    }
    delete rotation.journal.rotations[key];
    await rotation.saveJournal();
    await target.audit?.({ action: 'rotate-abort', outcome: 'ok', detail: rotation.strategy.name }).catch(() => undefined);
    return rotation.result('aborted');
  });
}
