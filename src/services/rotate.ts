/**
 * `vaultsmith rotate`: binds the rotation engine (src/rotate) to a manifest environment — its vault,
 * its contract variables, its services — and runs start / resume / abort / due. Returns results;
 * never prints values.
 */
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import pg from 'pg';
import type { Readable, Writable } from 'node:stream';
import { preflightAudit, recordAudit } from '../audit/index.js';
import { VaultsmithError, isVaultsmithError } from '../errors.js';
import { generateSecret, resolveCharset, type GeneratorKind, type GeneratorSpec } from '../gen/index.js';
import { openEnvironment, type OpenEnvironment } from '../manifest/environment.js';
import { loadManifest, type LoadedManifest } from '../manifest/loader.js';
import type { VariableSpec } from '../manifest/schema.js';
import { assertEnvironment, dependentKeys, expectedTemplateValue, renderVariables } from '../manifest/resolve.js';
import { parseTemplate } from '../manifest/template.js';
import { wipeSecrets } from '../secrets/index.js';
import { readVaultDocument, updateVaultValues } from '../store/index.js';
import {
  abortRotation,
  pendingRotations,
  resumeRotation,
  startRotation,
  type RotationResult,
  type RotationTarget,
} from '../rotate/engine.js';
import type { RotationSpec, StrategyContext } from '../rotate/types.js';
import { loginFromContract, setRoleVerifier, setupAlternatingRoles } from '../rotate/strategies/postgres.js';
import { podmanSync } from './podman-sync.js';
import { secretStatuses } from './status.js';

export interface RotateServiceContext {
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdin: Readable;
  stderr: Writable;
  /** Progress lines (no values). */
  log?: (line: string) => void;
}

export type RotateMode = 'start' | 'resume' | 'abort' | 'due' | 'setup';

export interface RotateRequest {
  env: string;
  secret?: string;
  mode: RotateMode;
  manifestPath?: string;
  dryRun?: boolean;
  /** Retire the old credential now instead of waiting for the grace period (resume / start). */
  finishNow?: boolean;
  /** Administrative URL; else the variable named by the spec's `admin_url_env`, else VAULTSMITH_ADMIN_URL. */
  adminUrl?: string;
}

export interface RotateOutcome {
  results: RotationResult[];
  /** Secrets whose rotation failed (due mode continues with the others). */
  failures: Array<{ secret: string; error: string }>;
}

const DEFAULT_GENERATORS: Record<string, GeneratorSpec> = {
  'django-secret-key': { kind: 'django-secret-key' },
  fernet: { kind: 'fernet' },
};

function generatorFor(loaded: LoadedManifest, key: string, strategy: string): GeneratorSpec {
  const declared = loaded.manifest.secrets?.[key]?.generate;
  if (typeof declared === 'string') return { kind: declared as GeneratorKind };
  if (declared) return { ...declared, kind: declared.kind as GeneratorKind };
  // URL-safe by default: database and Redis passwords end up inside connection URLs.
  return DEFAULT_GENERATORS[strategy] ?? { kind: 'token-urlsafe', bytes: 32 };
}

function rotationSpecOf(loaded: LoadedManifest, key: string): RotationSpec {
  const secret = loaded.manifest.secrets?.[key];
  if (!secret) throw new VaultsmithError('USAGE', `unknown secret '${key}' (not declared under secrets: in the manifest)`);
  if (!secret.rotation) {
    throw new VaultsmithError('MANIFEST', `${key} declares no rotation`, { hint: `add rotation: { strategy: ..., period: 90d } to secrets.${key}` });
  }
  const spec = { ...secret.rotation } as RotationSpec;
  if (spec.strategy === 'postgres-alternating' && spec.user_key === undefined) {
    const userVariable = loaded.manifest.variables?.[(spec.variables as Record<string, string> | undefined)?.user ?? 'DB_USER'];
    if (userVariable?.secret) spec.user_key = userVariable.secret;
  }
  return spec;
}

/** Vault keys whose change a rotation of `key` implies (the key, keys derived from it, strategy keys). */
function affectedKeys(loaded: LoadedManifest, key: string, spec: RotationSpec): string[] {
  const extra = [spec.fallbacks_key, spec.user_key].filter((k): k is string => typeof k === 'string');
  return [key, ...dependentKeys(loaded.manifest, key), ...extra];
}

/** Contract variables whose value comes from any of these vault keys. */
function variablesUsing(loaded: LoadedManifest, keys: string[]): VariableSpec[] {
  return Object.values(loaded.manifest.variables ?? {}).filter((variable) => {
    const refs = variable.secret !== undefined ? [variable.secret] : parseTemplate(variable.template ?? '').flatMap((p) => ('name' in p ? [p.name] : []));
    return refs.some((r) => keys.includes(r));
  });
}

/**
 * Variables fed by these keys that reach services other than as Podman secrets: `podman sync` does
 * not update them, so only the services' own restart commands can (e.g. through 'vaultsmith exec').
 */
function variablesOutsidePodman(loaded: LoadedManifest, keys: string[], spec: RotationSpec): string[] {
  const using = new Set(variablesUsing(loaded, keys));
  return Object.entries(loaded.manifest.variables ?? {})
    .filter(([, variable]) => using.has(variable) && (variable.services ?? []).length > 0 && (spec.podman === false || !variable.podman))
    .map(([name]) => name);
}

/** Services consuming any affected key, in the manifest's declared service order. */
export function consumingServices(loaded: LoadedManifest, keys: string[], spec: RotationSpec): string[] {
  if (Array.isArray(spec.services)) return spec.services.map(String);
  const wanted = new Set(variablesUsing(loaded, keys).flatMap((v) => v.services ?? []));
  return Object.keys(loaded.manifest.services ?? {}).filter((s) => wanted.has(s));
}

function runShell(command: string, cwd: string, env: NodeJS.ProcessEnv, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 2000) stderr += d.toString();
    });
    child.on('error', (e) => reject(new VaultsmithError('EXTERNAL', `${what} could not start: ${e.message}`)));
    child.on('close', (code) => {
      if (code === 0) return resolve();
      const first = stderr.trim().split('\n')[0];
      reject(new VaultsmithError('EXTERNAL', `${what} failed with exit ${code}${first ? `: ${first}` : ''}`));
    });
  });
}

/**
 * The environment handed to child processes (podman, restart/health commands, command-strategy
 * apply/test): the caller's, minus the administrative URL variables, which carry a superuser
 * password that those processes have no need for.
 */
function withoutAdminUrl(env: NodeJS.ProcessEnv, adminEnv: string): NodeJS.ProcessEnv {
  const copy = { ...env };
  delete copy[adminEnv];
  delete copy.VAULTSMITH_ADMIN_URL;
  return copy;
}

function buildTarget(
  loaded: LoadedManifest,
  opened: OpenEnvironment,
  key: string,
  request: RotateRequest,
  ctx: RotateServiceContext,
): RotationTarget {
  const { manifest } = loaded;
  const env = request.env;
  const spec = rotationSpecOf(loaded, key);
  const derivedOrder = dependentKeys(manifest, key);
  const deriveKeys = (values: Record<string, unknown>): Record<string, string> => {
    const acc = { ...values };
    const out: Record<string, string> = {};
    for (const k of derivedOrder) {
      const { value } = expectedTemplateValue(manifest, env, k, acc);
      if (value !== undefined) acc[k] = out[k] = value;
    }
    return out;
  };
  const generator = generatorFor(loaded, key, spec.strategy);
  if (spec.strategy.startsWith('postgres') && generator.charset !== undefined) {
    // Checked before anything is stored: a non-ASCII password would only fail at apply (no SASLprep).
    const charset = resolveCharset(generator.charset, generator.exclude ?? '');
    if (/[^\x20-\x7e]/.test(charset)) {
      throw new VaultsmithError('MANIFEST', `rotation of ${key}: PostgreSQL passwords must be printable ASCII; the generator's charset is not`, {
        hint: `use an ASCII charset in secrets.${key}.generate (e.g. alnum or url-safe)`,
      });
    }
  }
  const adminEnv = typeof spec.admin_url_env === 'string' ? spec.admin_url_env : 'VAULTSMITH_ADMIN_URL';
  const childEnv = withoutAdminUrl(ctx.env, adminEnv);
  const affected = affectedKeys(loaded, key, spec);
  const services = consumingServices(loaded, affected, spec);
  const usesPodman = spec.podman !== false && variablesUsing(loaded, affected).some((v) => v.podman !== undefined);
  const outsidePodman = variablesOutsidePodman(loaded, affected, spec);
  const outsidePodmanNote =
    outsidePodman.length > 0
      ? `note: ${outsidePodman.join(', ')} ${outsidePodman.length === 1 ? 'is not delivered as a Podman secret' : 'are not delivered as Podman secrets'}; ` +
        `the services' restart commands must pass the new value on (e.g. through 'vaultsmith exec')`
      : undefined;
  const log = ctx.log ?? (() => undefined);
  let vaultCache: { stamp: string; values: Record<string, unknown> } | undefined;
  return {
    env,
    manifestDir: loaded.dir,
    secretKey: key,
    spec,
    vault: {
      read: async () => {
        // Every phase looks at the vault; decrypt again only when the file changed on disk.
        const st = await stat(opened.vaultPath);
        const stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
        if (vaultCache?.stamp !== stamp) {
          const doc = await readVaultDocument(opened.vaultPath, opened.secrets);
          vaultCache = { stamp, values: (doc.toJS() ?? {}) as Record<string, unknown> };
        }
        return structuredClone(vaultCache.values);
      },
      update: (mutate) => updateVaultValues(opened.vaultPath, opened.secrets, opened.label, mutate),
    },
    renderVariables: (values) => {
      const merged = { ...values, ...deriveKeys(values) };
      return Object.fromEntries(renderVariables(loaded, env, merged).map((v) => [v.name, v.value]));
    },
    deriveKeys,
    generateBase: () => generateSecret(generator),
    deliver: async (_values, deliverLog) => {
      // Podman secrets first (the services read them at start), then restarts in declared order.
      if (usesPodman) {
        const synced = await podmanSync({ environment: env, manifestPath: loaded.path }, { env: childEnv, cwd: ctx.cwd, stdin: ctx.stdin, stderr: ctx.stderr });
        if (synced.failure) throw synced.failure;
        deliverLog('synced the Podman secrets');
      }
      if (outsidePodmanNote) deliverLog(outsidePodmanNote);
      for (const name of services) {
        const service = manifest.services?.[name];
        if (service?.restart) {
          await runShell(service.restart, loaded.dir, childEnv, `restart of ${name}`);
          deliverLog(`restarted ${name}`);
        }
        if (service?.health) {
          await runShell(service.health, loaded.dir, childEnv, `health check of ${name}`);
          deliverLog(`${name} is healthy`);
        }
      }
    },
    deliveryNote: outsidePodmanNote,
    deliveryPlan: [
      ...(usesPodman ? ['sync the Podman secrets'] : []),
      ...services.flatMap((name) => {
        const service = manifest.services?.[name];
        return [...(service?.restart ? [`restart ${name}`] : []), ...(service?.health ? [`check ${name}`] : [])];
      }),
    ],
    adminUrl: request.adminUrl ?? ctx.env[adminEnv],
    processEnv: childEnv,
    cwd: loaded.dir,
    log,
    audit: async (event) => {
      await recordAudit(
        { env: ctx.env, cwd: ctx.cwd },
        {
          command: event.action,
          env,
          file: opened.vaultPath,
          label: opened.label,
          secrets: [key],
          outcome: event.outcome,
          error: event.outcome === 'ok' ? null : (event.detail ?? 'ERROR'),
        },
        { manifestPath: loaded.path },
      );
    },
  };
}

function errorText(e: unknown): string {
  return isVaultsmithError(e) ? e.message : e instanceof Error ? e.message : String(e);
}

/**
 * The one-time set-up of postgres-alternating (administrative URL required): a NOLOGIN owner role
 * (`owner_role`, default `<first role>_owner`), the two LOGIN roles as its members, and the vault's
 * current password on the role in use, so the delivered settings keep working.
 */
async function setupAlternating(loaded: LoadedManifest, request: RotateRequest, ctx: RotateServiceContext): Promise<RotateOutcome> {
  const key = request.secret!;
  const spec = rotationSpecOf(loaded, key);
  if (spec.strategy !== 'postgres-alternating') throw new VaultsmithError('USAGE', `rotate --setup is for postgres-alternating; ${key} uses ${spec.strategy}`);
  const adminEnv = typeof spec.admin_url_env === 'string' ? spec.admin_url_env : 'VAULTSMITH_ADMIN_URL';
  const adminUrl = request.adminUrl ?? ctx.env[adminEnv];
  if (!adminUrl) throw new VaultsmithError('USAGE', `rotate --setup needs an administrative URL in ${adminEnv} (or --admin-url)`);
  const roles = spec.roles as [string, string] | undefined;
  if (!Array.isArray(roles) || roles.length !== 2) throw new VaultsmithError('MANIFEST', `rotation of ${key}: postgres-alternating needs roles: [<role a>, <role b>]`);
  const owner = typeof spec.owner_role === 'string' ? spec.owner_role : `${roles[0]}_owner`;
  const opened = await openEnvironment(loaded, request.env, ctx);
  try {
    const target = buildTarget(loaded, opened, key, request, ctx);
    const values = await target.vault.read();
    const login = loginFromContract(getStrategyContext(target), values);
    if (!roles.includes(login.user)) throw new VaultsmithError('MANIFEST', `the vault's DB user '${login.user}' is not one of ${roles.join(', ')}`);
    await setupAlternatingRoles(adminUrl, { owner, roles, database: login.database });
    const client = new pg.Client({ connectionString: adminUrl });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await setRoleVerifier(client, login.user, login.password);
    } finally {
      await client.end().catch(() => undefined);
    }
    ctx.log?.(`created ${owner} (NOLOGIN) with login roles ${roles.join(' and ')}; ${login.user} is in use`);
    return { results: [{ env: request.env, secret: key, strategy: spec.strategy, status: 'completed', phase: null, steps: [] }], failures: [] };
  } finally {
    wipeSecrets(opened.secrets);
  }
}

/** A minimal strategy context for one-off calls outside a rotation. */
function getStrategyContext(target: RotationTarget): StrategyContext {
  return {
    env: target.env,
    secretKey: target.secretKey,
    spec: target.spec,
    renderVariables: target.renderVariables,
    generateBase: target.generateBase,
    adminUrl: target.adminUrl,
    processEnv: target.processEnv,
    cwd: target.cwd,
    log: target.log,
    state: {},
    saveState: async () => undefined,
  };
}

/** Runs one rotation request against a manifest environment. */
export async function rotateSecrets(request: RotateRequest, ctx: RotateServiceContext): Promise<RotateOutcome> {
  const loaded = await loadManifest({ path: request.manifestPath, cwd: ctx.cwd });
  assertEnvironment(loaded.manifest, request.env);
  if (request.secret) rotationSpecOf(loaded, request.secret);
  if (request.mode === 'setup') {
    if (!request.secret) throw new VaultsmithError('USAGE', 'rotate --setup: name the secret');
    return setupAlternating(loaded, request, ctx);
  }
  const inFlight = await pendingRotations(loaded.dir, request.env);
  let keys: string[];
  if (request.mode === 'start') {
    if (!request.secret) throw new VaultsmithError('USAGE', 'rotate: name the secret to rotate, or use --due, --resume or --abort');
    keys = [request.secret];
  } else if (request.mode === 'due') {
    const statuses = await secretStatuses(loaded, request.env);
    keys = statuses.filter((s) => (s.overdue && s.strategy !== 'manual') || s.graceEnded).map((s) => s.secret);
  } else {
    // Nothing in flight is not an error: cron may run --resume unconditionally.
    keys = request.secret ? [request.secret] : Object.keys(inFlight);
    if (request.mode === 'resume' && request.secret && !inFlight[request.secret]) keys = [];
  }
  const outcome: RotateOutcome = { results: [], failures: [] };
  if (keys.length === 0) return outcome;
  // Fail closed before anything changes: a rotation that could not be audited does not start.
  if (!request.dryRun) await preflightAudit({ env: ctx.env, cwd: ctx.cwd }, { manifestPath: loaded.path });
  const opened = await openEnvironment(loaded, request.env, ctx);
  try {
    for (const key of keys) {
      const target = buildTarget(loaded, opened, key, request, ctx);
      const mode = request.mode === 'due' ? (inFlight[key] ? 'resume' : 'start') : request.mode;
      try {
        if (mode === 'start') outcome.results.push(await startRotation(target, { dryRun: request.dryRun, finishNow: request.finishNow }));
        else if (mode === 'resume') outcome.results.push(await resumeRotation(target, { finishNow: request.finishNow }));
        else outcome.results.push(await abortRotation(target, { finishNow: request.finishNow }));
      } catch (e) {
        if (request.mode !== 'due' && keys.length === 1) throw e;
        outcome.failures.push({ secret: key, error: errorText(e) });
      }
    }
  } finally {
    wipeSecrets(opened.secrets);
  }
  return outcome;
}
