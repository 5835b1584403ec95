import { VaultsmithError } from '../../errors.js';
import {
  type DeliveryKeys,
  LABEL_ENV,
  LABEL_FINGERPRINT,
  LABEL_STAGING_FOR,
  comparableLabels,
  fingerprintsEqual,
  isManaged,
  managedLabels,
} from './labels.js';
import type { DesiredPodmanSecret, ExistingPodmanSecret, PlanEntry, SyncAction } from './types.js';

/** Podman's own rule for secret names (libpod `secrets.go`), and its size limits for data. */
export const PODMAN_SECRET_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
export const PODMAN_SECRET_NAME_MAX = 253;
export const PODMAN_SECRET_MAX_BYTES = 512_000 - 1;
/** Suffix of the temporary copy made while swapping a value on Podman without `--replace`. */
export const STAGING_SUFFIX = '.vaultsmith-staged';

/** A desired secret with its data as bytes and the full label set it must carry. */
export interface PreparedSecret {
  name: string;
  data: Buffer;
  labels: Record<string, string>;
}

export interface PlannedSync {
  environment: string;
  entries: PlanEntry[];
  desired: Map<string, PreparedSecret>;
  existing: Map<string, ExistingPodmanSecret>;
}

export interface PlanOptions {
  prune?: boolean;
  /** Names the full contract still uses (with `--service`, the other services' secrets): never pruned. */
  keepNames?: Iterable<string>;
  /**
   * Labels a managed secret must also carry to count as this sync's own (e.g. the project), so two
   * projects with an environment of the same name on one host never update or prune each other's.
   */
  scopeLabels?: Record<string, string>;
}

export function stagingName(name: string): string {
  return `${name}${STAGING_SUFFIX}`;
}

function validateDesired(secret: DesiredPodmanSecret, data: Buffer): void {
  const { name } = secret;
  if (!PODMAN_SECRET_NAME.test(name) || name.length + STAGING_SUFFIX.length > PODMAN_SECRET_NAME_MAX) {
    throw new VaultsmithError('INPUT', `invalid podman secret name '${name}'`, {
      hint: `names match ${PODMAN_SECRET_NAME.source} and are at most ${PODMAN_SECRET_NAME_MAX - STAGING_SUFFIX.length} characters`,
    });
  }
  if (name.endsWith(STAGING_SUFFIX)) {
    throw new VaultsmithError('INPUT', `podman secret name '${name}' ends with the reserved suffix ${STAGING_SUFFIX}`);
  }
  if (data.length === 0) {
    throw new VaultsmithError('INPUT', `podman secret '${name}' would be empty; Podman rejects empty secrets`, {
      hint: 'set a value in the vault, or mark the variable optional',
    });
  }
  if (data.length > PODMAN_SECRET_MAX_BYTES) {
    throw new VaultsmithError('INPUT', `podman secret '${name}' is ${data.length} bytes; Podman accepts less than 512000`);
  }
}

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * Compares what the contract wants with what Podman holds; pure (no I/O). Secrets without
 * `vaultsmith.managed=true` are never planned for change: a name clash with one is a conflict.
 */
export function planPodmanSync(
  keys: DeliveryKeys,
  desiredSecrets: DesiredPodmanSecret[],
  existingSecrets: ExistingPodmanSecret[],
  options: PlanOptions = {},
): PlannedSync {
  const environment = keys.environment;
  const scope = options.scopeLabels ?? {};
  const desired = new Map<string, PreparedSecret>();
  for (const secret of [...desiredSecrets].sort(byName)) {
    const data = Buffer.from(secret.value);
    validateDesired(secret, data);
    if (desired.has(secret.name)) {
      throw new VaultsmithError('INPUT', `podman secret '${secret.name}' is listed twice`);
    }
    const labels = managedLabels(keys, secret.name, data, { ...secret.labels, ...scope });
    desired.set(secret.name, { name: secret.name, data, labels });
  }
  const existing = new Map(existingSecrets.map((s) => [s.name, s]));
  const inScope = (s: ExistingPodmanSecret) => Object.entries(scope).every(([key, value]) => s.labels[key] === value);
  const ownedHere = (s: ExistingPodmanSecret) => isManaged(s.labels) && s.labels[LABEL_ENV] === environment && inScope(s);

  const cleanup: PlanEntry[] = [];
  const changes: PlanEntry[] = [];
  const prunes: PlanEntry[] = [];
  for (const secret of [...existing.values()].sort(byName)) {
    if (ownedHere(secret) && secret.labels[LABEL_STAGING_FOR] !== undefined) {
      cleanup.push({ name: secret.name, action: 'cleanup', reason: 'staged copy left by an interrupted sync' });
    }
  }
  for (const secret of desired.values()) {
    const current = existing.get(secret.name);
    let action: SyncAction;
    let reason: string;
    if (!current) {
      [action, reason] = ['create', 'new'];
    } else if (!isManaged(current.labels)) {
      [action, reason] = ['conflict', 'exists but was not created by vaultsmith'];
    } else if (current.labels[LABEL_ENV] !== environment) {
      [action, reason] = ['conflict', `managed by vaultsmith for environment '${current.labels[LABEL_ENV] ?? '?'}'`];
    } else if (!inScope(current)) {
      const theirs = Object.keys(scope).map((key) => `${key}=${current.labels[key] ?? '(none)'}`).join(', ');
      [action, reason] = ['conflict', `managed by vaultsmith for another owner (${theirs})`];
    } else if (!fingerprintsEqual(current.labels[LABEL_FINGERPRINT], secret.labels[LABEL_FINGERPRINT])) {
      [action, reason] = ['update', 'value changed'];
    } else if (comparableLabels(current.labels) !== comparableLabels(secret.labels)) {
      [action, reason] = ['update', 'labels changed'];
    } else {
      [action, reason] = ['unchanged', 'same value'];
    }
    changes.push({ name: secret.name, action, reason });
  }
  if (options.prune) {
    const keep = new Set(options.keepNames ?? []);
    for (const secret of [...existing.values()].sort(byName)) {
      if (!ownedHere(secret) || secret.labels[LABEL_STAGING_FOR] !== undefined) continue;
      if (desired.has(secret.name) || keep.has(secret.name)) continue;
      prunes.push({ name: secret.name, action: 'prune', reason: 'no longer in the contract' });
    }
  }
  return { environment, entries: [...cleanup, ...changes, ...prunes], desired, existing };
}

export function summarize(entries: PlanEntry[]): Record<SyncAction, number> {
  const summary: Record<SyncAction, number> = { create: 0, update: 0, unchanged: 0, prune: 0, cleanup: 0, conflict: 0 };
  for (const entry of entries) summary[entry.action] += 1;
  return summary;
}
