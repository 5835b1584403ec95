import { VaultsmithError } from '../../errors.js';
import { type DeliveryKeys, LABEL_STAGING_FOR, unsealValue } from './labels.js';
import { type PlanOptions, type PlannedSync, type PreparedSecret, planPodmanSync, stagingName, summarize } from './plan.js';
import type { DesiredPodmanSecret, PlanEntry, PodmanSecretBackend, ResultEntry, SyncReport } from './types.js';

export interface ExecuteOptions {
  dryRun?: boolean;
  prune?: boolean;
}

export interface SyncOutcome {
  report: SyncReport;
  /** Set when the sync stopped early; the report says which entries were done. */
  failure?: VaultsmithError;
}

function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, ' ');
}

/**
 * Replaces a secret's value. With `--replace` Podman does it in one step. Without it (Podman < 4.7):
 *   1. create the new value under `<name>.vaultsmith-staged` — proves Podman accepts it; a failure
 *      here changes nothing;
 *   2. remove `<name>`; a failure here removes the staged copy and changes nothing;
 *   3. create `<name>` with the new value; if that fails, recreate `<name>` with the previous value
 *      (recovered from the old secret's sealed label, checked against its fingerprint) and report
 *      the failure. When the previous value cannot be recovered (no seal: made by other means or
 *      larger than 16 KiB) the create of the new value is tried once more instead. Only if that or
 *      the restore fails too is `<name>` left missing; the error then says so and names the staged
 *      copy, and the next sync removes the copy and creates `<name>`.
 */
async function replaceSecret(
  backend: PodmanSecretBackend,
  keys: DeliveryKeys,
  secret: PreparedSecret,
  previousLabels: Record<string, string>,
  canReplace: boolean,
): Promise<'replace' | 'swap'> {
  const { name } = secret;
  if (canReplace) {
    await backend.create(name, secret.data, secret.labels, { replace: true });
    return 'replace';
  }
  const staged = stagingName(name);
  try {
    await backend.create(staged, secret.data, { ...secret.labels, [LABEL_STAGING_FOR]: name });
  } catch (e) {
    throw new VaultsmithError('EXTERNAL', `could not stage the new value of podman secret '${name}': ${oneLine(e)}; nothing was changed`, { cause: e });
  }
  try {
    await backend.remove(name);
  } catch (e) {
    await backend.remove(staged).catch(() => undefined);
    throw new VaultsmithError('EXTERNAL', `could not remove podman secret '${name}' to replace it: ${oneLine(e)}; it was left unchanged`, { cause: e });
  }
  try {
    await backend.create(name, secret.data, secret.labels);
  } catch (e) {
    const succeeds = (attempt: Promise<void>) => attempt.then(() => true, () => false);
    const previous = unsealValue(keys, name, previousLabels);
    if (previous) {
      const restored = await succeeds(backend.create(name, previous, previousLabels));
      previous.fill(0);
      if (restored) {
        await backend.remove(staged).catch(() => undefined);
        throw new RestoredError(name, e);
      }
    } else if (await succeeds(backend.create(name, secret.data, secret.labels))) {
      // Nothing to restore: one more try with data Podman already accepted beats an empty name.
      await backend.remove(staged).catch(() => undefined);
      return 'swap';
    }
    throw new VaultsmithError(
      'EXTERNAL',
      `podman secret '${name}' is missing after a failed replace: ${oneLine(e)}; its new value is kept as '${staged}'`,
      { cause: e, hint: `run 'vaultsmith podman sync ${keys.environment}' again once Podman works` },
    );
  }
  await backend.remove(staged).catch(() => undefined);
  return 'swap';
}

/** A replace failed and the previous value was put back: the store is as it was before. */
export class RestoredError extends VaultsmithError {
  readonly secretName: string;
  constructor(name: string, cause: unknown) {
    super('EXTERNAL', `could not replace podman secret '${name}': ${oneLine(cause)}; the previous value was put back`, {
      cause,
      hint: 'fix the Podman error and run the sync again',
    });
    this.name = 'RestoredError';
    this.secretName = name;
  }
}

function conflictError(conflicts: PlanEntry[]): VaultsmithError {
  const list = conflicts.map((c) => `${c.name} (${c.reason})`).join(', ');
  return new VaultsmithError('CONFLICT', `refusing to touch podman secrets vaultsmith does not manage here: ${list}`, {
    hint: "remove or rename them yourself ('podman secret rm NAME'), or name other secrets in the manifest",
  });
}

/**
 * Carries out a plan: staged-copy cleanup, creates, updates, then prunes, stopping at the first
 * failure. Conflicts stop the sync before any change. Unchanged secrets are not touched.
 */
export async function executePodmanSync(
  backend: PodmanSecretBackend,
  keys: DeliveryKeys,
  planned: PlannedSync,
  options: ExecuteOptions = {},
): Promise<SyncOutcome> {
  const results: ResultEntry[] = planned.entries.map((entry) => ({
    ...entry,
    status: entry.action === 'unchanged' ? 'unchanged' : options.dryRun ? 'planned' : 'not-run',
  }));
  const report = (failure?: VaultsmithError): SyncOutcome => ({
    report: {
      environment: planned.environment,
      backend: backend.description,
      dryRun: Boolean(options.dryRun),
      prune: Boolean(options.prune),
      plan: planned.entries,
      results,
      summary: summarize(planned.entries),
      ok: failure === undefined,
      ...(failure ? { error: failure.message } : {}),
    },
    ...(failure ? { failure } : {}),
  });
  const conflicts = planned.entries.filter((e) => e.action === 'conflict');
  if (conflicts.length > 0) return report(conflictError(conflicts));
  if (options.dryRun) return report();

  const needsReplace = planned.entries.some((e) => e.action === 'update');
  const canReplace = needsReplace ? await backend.supportsReplace() : false;
  const order = ['cleanup', 'create', 'update', 'prune'] as const;
  for (const action of order) {
    for (const result of results) {
      if (result.action !== action) continue;
      try {
        if (action === 'cleanup' || action === 'prune') {
          await backend.remove(result.name);
        } else {
          const secret = planned.desired.get(result.name);
          if (!secret) throw new VaultsmithError('INTERNAL', `no data planned for '${result.name}'`);
          if (action === 'create') {
            await backend.create(secret.name, secret.data, secret.labels);
          } else {
            const previous = planned.existing.get(result.name)?.labels ?? {};
            result.method = await replaceSecret(backend, keys, secret, previous, canReplace);
          }
        }
        result.status = 'done';
      } catch (e) {
        const failure = e instanceof VaultsmithError ? e : new VaultsmithError('EXTERNAL', oneLine(e), { cause: e });
        result.status = e instanceof RestoredError ? 'restored' : 'failed';
        result.error = failure.message;
        return report(failure);
      }
    }
  }
  return report();
}

/** Zeroes the plan's copies of secret data (call in finally). */
export function wipePlannedData(planned: PlannedSync | undefined): void {
  for (const secret of planned?.desired.values() ?? []) secret.data.fill(0);
}

/**
 * The whole engine in one call: read the store, plan, execute (or only plan with `dryRun`).
 * `onPlan` sees the plan before anything changes (the CLI prints it there).
 */
export async function syncPodmanSecrets(
  backend: PodmanSecretBackend,
  keys: DeliveryKeys,
  desired: DesiredPodmanSecret[],
  options: ExecuteOptions & PlanOptions & { onPlan?: (plan: PlanEntry[]) => void | Promise<void> } = {},
): Promise<SyncOutcome> {
  let planned: PlannedSync | undefined;
  try {
    planned = planPodmanSync(keys, desired, await backend.list(), options);
    await options.onPlan?.(planned.entries);
    return await executePodmanSync(backend, keys, planned, options);
  } finally {
    wipePlannedData(planned);
  }
}
