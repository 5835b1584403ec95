/**
 * The delivery engine's vocabulary: what should be in the Podman secret store, what is there, and a
 * backend that talks to Podman (CLI or libpod REST API). Nothing here ever holds a value longer than
 * the sync that needs it, and no type that reaches output (plan, report) carries a value.
 */

/** One secret the environment's contract says Podman must hold. */
export interface DesiredPodmanSecret {
  /** The Podman secret name (`[A-Za-z0-9][A-Za-z0-9_.-]*`). */
  name: string;
  /** The secret data, sent to Podman on stdin / in a request body only. */
  value: string | Uint8Array;
  /** Extra labels (informational, e.g. which variables use it); `vaultsmith.*` keys are reserved. */
  labels?: Record<string, string>;
}

/** A secret found in the Podman store (metadata only: Podman 4.3 never returns the data). */
export interface ExistingPodmanSecret {
  id: string;
  name: string;
  labels: Record<string, string>;
}

export interface CreateSecretOptions {
  /** Replace an existing secret of that name atomically (Podman >= 4.7 `--replace`). */
  replace?: boolean;
}

/** The few Podman operations sync needs; implemented by the CLI and the REST API backends. */
export interface PodmanSecretBackend {
  /** For messages and reports, e.g. `podman CLI` or `libpod API at unix:///run/podman.sock`. */
  readonly description: string;
  /** Whether `create` can replace an existing secret in one step. */
  supportsReplace(): Promise<boolean>;
  /** All secrets in the store, with their labels. */
  list(): Promise<ExistingPodmanSecret[]>;
  create(name: string, data: Uint8Array, labels: Record<string, string>, options?: CreateSecretOptions): Promise<void>;
  remove(name: string): Promise<void>;
}

export type SyncAction = 'create' | 'update' | 'unchanged' | 'prune' | 'cleanup' | 'conflict';

/** One line of the plan. Never contains a value. */
export interface PlanEntry {
  name: string;
  action: SyncAction;
  /** Why, in a few words: `new`, `value changed`, `labels changed`, `not in the contract`, ... */
  reason: string;
}

export type EntryStatus = 'done' | 'unchanged' | 'failed' | 'restored' | 'not-run' | 'planned';

export interface ResultEntry extends PlanEntry {
  status: EntryStatus;
  /** How an update was applied: Podman's `--replace`, or staged copy + remove + create. */
  method?: 'replace' | 'swap';
  /** One-line error for a failed entry (never a value). */
  error?: string;
}

export interface SyncReport {
  environment: string;
  backend: string;
  dryRun: boolean;
  prune: boolean;
  plan: PlanEntry[];
  results: ResultEntry[];
  /** Counts per action of the plan. */
  summary: Record<SyncAction, number>;
  ok: boolean;
  error?: string;
}
