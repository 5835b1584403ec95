/**
 * `vaultsmith podman sync ENV`: make the Podman secret store hold exactly the environment's managed
 * secrets. Opens the environment (vault + password from the manifest), resolves the variable
 * contract, derives the fingerprint keys from the vault password, and runs the delivery engine.
 */
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withAudit } from '../audit/index.js';
import { VaultsmithError } from '../errors.js';
import {
  type DeliveryKeys,
  LABEL_PROJECT,
  PodmanApiBackend,
  PodmanCliBackend,
  type PodmanSecretBackend,
  type PlanEntry,
  type SyncOutcome,
  deriveDeliveryKeys,
  podmanSecretsFromVariables,
  syncPodmanSecrets,
} from '../deliver/podman/index.js';
import { type EnvironmentContext, type OpenEnvironment, loadManifest, openEnvironment, renderVariables } from '../manifest/index.js';
import { withFileLock } from '../internal/file-lock.js';
import { placeholderReason } from '../manifest/formats.js';
import type { LoadedManifest } from '../manifest/index.js';
import type { ResolvedVariable } from '../manifest/resolve.js';
import { wipeSecrets } from '../secrets/index.js';
import type { VaultSecret } from '../vault/types.js';

export interface PodmanTarget {
  /** `unix:///path/podman.sock`: use the libpod REST API instead of the podman CLI. */
  url?: string;
  /** A `podman system connection` name for the CLI (`--connection`). */
  connection?: string;
}

export interface PodmanSyncRequest extends PodmanTarget {
  environment: string;
  /** vaultsmith.yaml (default: searched upward from cwd). */
  manifestPath?: string;
  /** Only the secrets this service's variables use (prune still spares the other services' ones). */
  service?: string;
  prune?: boolean;
  dryRun?: boolean;
  /** Called with the plan before anything changes. */
  onPlan?: (plan: PlanEntry[], backend: string) => void | Promise<void>;
  /** Problems worth a line on stderr that do not stop the sync (never values). */
  onWarning?: (message: string) => void;
}

/**
 * Podman secrets about to carry a placeholder (init's `placeholder:`, YOUR-..., CHANGE-ME, empty):
 * delivered as-is they would reach the containers, so say which, by name only.
 */
export function placeholderWarnings(loaded: LoadedManifest, environment: string, variables: ResolvedVariable[]): string[] {
  const warnings: string[] = [];
  for (const variable of variables) {
    const key = loaded.manifest.variables?.[variable.name]?.secret;
    if (!variable.podman || !variable.fromSecret || key === undefined) continue;
    const reason = placeholderReason(variable.value, loaded.manifest.secrets?.[key]?.placeholder);
    if (reason) {
      warnings.push(
        `podman secret '${variable.podman.secret}' (${variable.name}) gets ${reason} from ${key}; ` +
          `supply it: vaultsmith set ${environment} ${key} --value-stdin`,
      );
    }
  }
  return warnings;
}

export function podmanBackend(target: PodmanTarget, env: NodeJS.ProcessEnv): PodmanSecretBackend {
  if (target.url && target.connection) {
    throw new VaultsmithError('USAGE', 'podman: --url and --connection are two ways to reach Podman; give one');
  }
  return target.url ? new PodmanApiBackend({ url: target.url }) : new PodmanCliBackend({ env, ...(target.connection ? { connection: target.connection } : {}) });
}

/** A per-user lock name for one (Podman store, project, environment); no secrets go into it. */
export function syncLockTarget(env: NodeJS.ProcessEnv, project: string, environment: string, backend: PodmanSecretBackend): string {
  const store = [backend.description, env.CONTAINERS_STORAGE_CONF ?? '', env.CONTAINER_HOST ?? '', project, environment].join('\0');
  const id = createHash('sha256').update(store).digest('hex').slice(0, 16);
  return join(env.XDG_RUNTIME_DIR || tmpdir(), `vaultsmith-podman-sync-${id}`);
}

/** The password that opened the vault: the secret whose label matches the file's, else the first. */
function vaultPasswordOf(opened: OpenEnvironment): VaultSecret {
  const wanted = opened.header.label ?? opened.label;
  const secret = opened.secrets.find((s) => s.label === wanted) ?? opened.secrets[0];
  if (!secret) throw new VaultsmithError('PASSWORD_SOURCE', `no vault password for environment ${opened.name}`);
  return secret;
}

export async function podmanSync(request: PodmanSyncRequest, ctx: EnvironmentContext): Promise<SyncOutcome> {
  const loaded = await loadManifest({ cwd: ctx.cwd, ...(request.manifestPath ? { path: request.manifestPath } : {}) });
  const backend = podmanBackend(request, ctx.env);
  const base = { command: request.dryRun ? 'podman sync --dry-run' : 'podman sync', env: request.environment };
  return withAudit(
    ctx,
    base,
    async (note) => {
      let opened: OpenEnvironment | undefined;
      let keys: DeliveryKeys | undefined;
      try {
        opened = await openEnvironment(loaded, request.environment, ctx);
        note.set({ file: opened.vaultPath, label: opened.header.label ?? opened.label });
        const all = renderVariables(loaded, request.environment, opened.values);
        const selected = request.service === undefined ? all : renderVariables(loaded, request.environment, opened.values, { service: request.service });
        const project = loaded.manifest.project;
        const desired = podmanSecretsFromVariables(selected, project);
        for (const warning of placeholderWarnings(loaded, request.environment, selected)) request.onWarning?.(warning);
        const keepNames = podmanSecretsFromVariables(all, project).map((s) => s.name);
        note.set({ secrets: desired.map((s) => s.name) });
        keys = await deriveDeliveryKeys(vaultPasswordOf(opened).password, request.environment);
        const deliveryKeys = keys;
        const sync = () =>
          syncPodmanSecrets(backend, deliveryKeys, desired, {
            prune: Boolean(request.prune),
            dryRun: Boolean(request.dryRun),
            keepNames,
            scopeLabels: { [LABEL_PROJECT]: project },
            onPlan: (plan) => request.onPlan?.(plan, backend.description),
          });
        // Two syncs of one store interleaving their swaps could each restore a stale value.
        const outcome = request.dryRun ? await sync() : await withFileLock(syncLockTarget(ctx.env, project, request.environment, backend), sync);
        // A failed sync is recorded as an error; the caller still gets the report to print.
        if (outcome.failure) throw new SyncFailed(outcome);
        return outcome;
      } finally {
        if (opened) wipeSecrets(opened.secrets);
        keys?.fingerprintKey.fill(0);
        keys?.sealKey.fill(0);
      }
    },
    request.manifestPath ? { manifestPath: request.manifestPath } : {},
  ).catch((e: unknown) => {
    if (e instanceof SyncFailed) return e.outcome;
    throw e;
  });
}

/** Carries a failed sync's report through withAudit (which records the failure) back to the caller. */
class SyncFailed extends VaultsmithError {
  readonly outcome: SyncOutcome;
  constructor(outcome: SyncOutcome) {
    const failure = outcome.failure!;
    super(failure.code, failure.message, { cause: failure });
    this.outcome = outcome;
  }
}
