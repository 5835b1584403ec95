/**
 * Rotation engine types. A rotation is a phase machine (see engine.ts); a strategy knows one kind of
 * service. Strategies receive values, never print them, and every step looks before it changes, so
 * any step can be run again after a crash.
 */

import { ROTATION_STRATEGIES } from '../manifest/schema.js';

// The manifest schema owns the list of strategy names; the engine's type follows it.
export { ROTATION_STRATEGIES };
export type RotationStrategyName = (typeof ROTATION_STRATEGIES)[number];

/** `secrets.<key>.rotation` from the manifest, with snake_case option keys kept as written. */
export interface RotationSpec {
  strategy: RotationStrategyName;
  /** e.g. `90d`; parsed by parseDuration. */
  period?: string;
  /** Time the old credential stays valid after delivery, e.g. `7d` (default 0). */
  grace?: string;
  [option: string]: unknown;
}

/** Phases in order. The journal records the last one completed. */
export const PHASES = ['prepare', 'apply', 'test', 'deliver', 'finish', 'record'] as const;
export type Phase = (typeof PHASES)[number];

/** What a strategy may use; all values come from the decrypted vault / rendered contract. */
export interface StrategyContext {
  env: string;
  secretKey: string;
  spec: RotationSpec;
  /**
   * Contract variables (DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD, REDIS_URL, ...) rendered with
   * the given vault values, so a strategy sees exactly what the application will see.
   */
  renderVariables(values: Record<string, unknown>): Record<string, string>;
  /** A fresh value from the secret's declared generator (`secrets.<key>.generate`). */
  generateBase(): string;
  /** Administrative URL (from --admin-url or an environment variable), if given. */
  adminUrl?: string;
  /** Environment for child processes (command strategy) and `~` expansion. */
  processEnv: NodeJS.ProcessEnv;
  cwd: string;
  /** Progress lines for people (no values). */
  log(message: string): void;
  /** Non-secret per-rotation scratch state kept in the journal (e.g. re-encryption progress). */
  state: Record<string, unknown>;
  /** Persists `state` in the journal (crash-safe progress inside a phase). */
  saveState(): Promise<void>;
}

/** The vault values around a rotation: `current` is live, `pending` is the new value. */
export interface RotationValues {
  /** All decrypted vault values as they are now. */
  values: Record<string, unknown>;
  current: string;
  pending: string;
}

export interface RotationStrategy {
  name: RotationStrategyName;
  /**
   * The new value to store as pending. `current` is the live value (for strategies whose value is a
   * list, e.g. fernet, the new value may contain the old one).
   */
  generate(ctx: StrategyContext, current: string, values: Record<string, unknown>): string;
  /**
   * Extra vault edits made when the pending value is promoted (e.g. flip DB_USER, push the old key
   * onto SECRET_KEY_FALLBACKS). Returns key → new value; must be a pure function of its input.
   */
  promoteEdits?(ctx: StrategyContext, v: RotationValues): Record<string, unknown>;
  /** Makes the service accept the pending value (idempotent: look first). */
  apply(ctx: StrategyContext, v: RotationValues): Promise<void>;
  /** Proves the pending value works, e.g. by logging in with it. */
  test(ctx: StrategyContext, v: RotationValues): Promise<void>;
  /**
   * Retires the previous credential after the grace period. `values` are the promoted vault values;
   * returns vault edits to make afterwards (e.g. drop the old key from a fallback list).
   */
  finish(ctx: StrategyContext, v: { values: Record<string, unknown>; current: string; previous: string }): Promise<Record<string, unknown> | void>;
  /** Undoes `apply` when a rotation is aborted before delivery: the service accepts `current` again. */
  revert(ctx: StrategyContext, v: RotationValues): Promise<void>;
  /** Proves a value is accepted by the service (used to check invariants and by status). */
  accepts?(ctx: StrategyContext, values: Record<string, unknown>): Promise<boolean>;
}
