/**
 * Turning a manifest plus one environment's decrypted vault values into concrete strings: settings,
 * templated vault keys and the environment-variable contract. Pure functions; no I/O.
 */
import { VaultsmithError } from '../errors.js';
import type { LoadedManifest } from './loader.js';
import type { Manifest, PerEnvironment, Scalar, VariableSpec } from './schema.js';
import { parseTemplate, renderTemplate } from './template.js';

/** Top-level vault keys starting with this are vaultsmith's own state (rotation), not contract keys. */
export const RESERVED_KEY_PREFIX = 'vaultsmith_';

export interface ResolvedVariable {
  name: string;
  value: string;
  /** True when the value comes from, or contains, a vault key. */
  fromSecret: boolean;
  services: string[];
  podman?: { secret: string; type: 'env' | 'mount'; target: string };
  /** The value with every vault-derived part replaced by `****`, safe to show. */
  masked: string;
  description?: string;
}

export type VariableResolution =
  | { status: 'ok'; variable: ResolvedVariable }
  | { status: 'absent' } // an optional variable without a value
  | { status: 'missing'; missingKeys: string[] }; // a required value whose vault key is absent

export function assertEnvironment(manifest: Manifest, envName: string): void {
  if (!(envName in manifest.environments)) {
    const names = Object.keys(manifest.environments);
    throw new VaultsmithError('USAGE', `unknown environment '${envName}' (the manifest declares: ${names.join(', ')})`);
  }
}

export function scalarToString(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return value.toISOString();
  // Lists and maps inside a vault have no single string form; JSON is the honest rendering.
  return JSON.stringify(value);
}

/** A literal, or the entry for `envName` (falling back to `default`) of a per-environment map. */
export function valueForEnvironment(value: PerEnvironment | undefined, envName: string): Scalar | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object') return value;
  return value[envName] ?? value.default;
}

export function settingsFor(manifest: Manifest, envName: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(manifest.settings ?? {})) {
    const v = valueForEnvironment(value, envName);
    if (v !== undefined) out[name] = String(v);
  }
  return out;
}

/** Looks names up in the vault values first, then the settings. */
export function templateLookup(manifest: Manifest, envName: string, values: Record<string, unknown>) {
  const settings = settingsFor(manifest, envName);
  return (name: string): string | undefined => {
    if (manifest.secrets && name in manifest.secrets) return scalarToString(values[name]);
    return settings[name];
  };
}

/**
 * The value a templated vault key should hold given the other vault values, or undefined when a
 * referenced key is missing.
 */
export function expectedTemplateValue(
  manifest: Manifest,
  envName: string,
  key: string,
  values: Record<string, unknown>,
): { value: string | undefined; missing: string[] } {
  const template = manifest.secrets?.[key]?.template;
  if (template === undefined) return { value: undefined, missing: [] };
  const { value, missing } = renderTemplate(template, templateLookup(manifest, envName, values));
  return { value, missing };
}

/** Vault keys with a template, ordered so that each comes after the templated keys it uses. */
export function templatedKeysInOrder(manifest: Manifest): string[] {
  const secrets = manifest.secrets ?? {};
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (key: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    const template = secrets[key]?.template;
    if (template === undefined) return;
    for (const part of parseTemplate(template)) if ('name' in part && part.name in secrets) visit(part.name);
    order.push(key);
  };
  Object.keys(secrets).forEach(visit);
  return order;
}

/** Templated keys that depend (directly or not) on `key`. */
export function dependentKeys(manifest: Manifest, key: string): string[] {
  const secrets = manifest.secrets ?? {};
  const result: string[] = [];
  for (const candidate of templatedKeysInOrder(manifest)) {
    const refs = parseTemplate(secrets[candidate]?.template ?? '').flatMap((p) => ('name' in p ? [p.name] : []));
    if (refs.includes(key) || refs.some((r) => result.includes(r))) result.push(candidate);
  }
  return result;
}

const MASK = '****';

/** A shown value that hides something: inserted into templates as is, never percent-encoded. */
function isMasked(shown: string): boolean {
  return shown.includes(MASK);
}

export function maskValue(value: string): string {
  return value === '' ? '' : MASK;
}

/**
 * A vault value as it may be shown: configuration (keys with a `default`, e.g. the DB host) as is, a
 * templated key with its secret parts masked (`redis://:****@redis:6379/2`), anything else `****`.
 */
export function maskedKeyValue(manifest: Manifest, envName: string, key: string, values: Record<string, unknown>, depth = 0): string {
  const value = scalarToString(values[key]);
  if (value === undefined) return MASK;
  const spec = manifest.secrets?.[key];
  if (spec?.default !== undefined && valueForEnvironment(spec.default, envName) !== undefined) return value;
  if (spec?.template !== undefined && depth < 10) {
    const lookup = templateLookup(manifest, envName, values);
    const secretKeys = manifest.secrets ?? {};
    // Only when the stored value still matches its template is the masked rendering faithful.
    if (renderTemplate(spec.template, lookup).value === value) {
      const masked = renderTemplate(spec.template, (n) => (n in secretKeys ? maskedKeyValue(manifest, envName, n, values, depth + 1) : lookup(n)), {
        verbatim: isMasked,
      });
      if (masked.value !== undefined) return masked.value;
    }
  }
  return maskValue(value);
}

function podmanOf(name: string, spec: VariableSpec): ResolvedVariable['podman'] {
  if (!spec.podman) return undefined;
  const type = spec.podman.type ?? 'env';
  return { secret: spec.podman.secret, type, target: spec.podman.target ?? (type === 'env' ? name : `/run/secrets/${spec.podman.secret}`) };
}

/** Resolves one variable for one environment without throwing on missing vault keys. */
export function resolveVariable(
  manifest: Manifest,
  envName: string,
  name: string,
  values: Record<string, unknown>,
): VariableResolution {
  const spec = manifest.variables?.[name];
  if (!spec) throw new VaultsmithError('USAGE', `unknown variable '${name}'`);
  const base = { name, services: spec.services ?? [], podman: podmanOf(name, spec), description: spec.description };
  const secretKeys = new Set(Object.keys(manifest.secrets ?? {}));
  if (spec.secret !== undefined) {
    const value = scalarToString(values[spec.secret]);
    if (value === undefined) return spec.optional ? { status: 'absent' } : { status: 'missing', missingKeys: [spec.secret] };
    return { status: 'ok', variable: { ...base, value, fromSecret: true, masked: maskedKeyValue(manifest, envName, spec.secret, values) } };
  }
  if (spec.template !== undefined) {
    const lookup = templateLookup(manifest, envName, values);
    const { value, missing } = renderTemplate(spec.template, lookup);
    if (value === undefined) {
      const missingKeys = missing.filter((m) => secretKeys.has(m));
      return spec.optional ? { status: 'absent' } : { status: 'missing', missingKeys: missingKeys.length ? missingKeys : missing };
    }
    const masked =
      renderTemplate(spec.template, (n) => (secretKeys.has(n) ? maskedKeyValue(manifest, envName, n, values) : lookup(n)), {
        verbatim: isMasked,
      }).value ?? MASK;
    const fromSecret = parseTemplate(spec.template).some((p) => 'name' in p && secretKeys.has(p.name));
    return { status: 'ok', variable: { ...base, value, fromSecret, masked } };
  }
  const literal = valueForEnvironment(spec.value, envName);
  if (literal === undefined) return { status: 'absent' };
  const value = String(literal);
  return { status: 'ok', variable: { ...base, value, fromSecret: false, masked: value } };
}

/**
 * The environment-variable contract of one environment (optionally one service), in manifest order.
 * Optional variables without a value are left out; a required one whose vault key is missing is an
 * error naming the key (never a value).
 */
export function renderVariables(
  loaded: LoadedManifest,
  envName: string,
  values: Record<string, unknown>,
  options: { service?: string } = {},
): ResolvedVariable[] {
  const { manifest } = loaded;
  assertEnvironment(manifest, envName);
  if (options.service !== undefined && !(options.service in (manifest.services ?? {}))) {
    const names = Object.keys(manifest.services ?? {});
    throw new VaultsmithError('USAGE', `unknown service '${options.service}' (the manifest declares: ${names.join(', ') || 'none'})`);
  }
  const out: ResolvedVariable[] = [];
  for (const [name, spec] of Object.entries(manifest.variables ?? {})) {
    if (options.service !== undefined && !(spec.services ?? []).includes(options.service)) continue;
    const r = resolveVariable(manifest, envName, name, values);
    if (r.status === 'ok') out.push(r.variable);
    else if (r.status === 'missing') {
      throw new VaultsmithError('INPUT', `variable ${name} needs vault key ${r.missingKeys.join(', ')}, which the ${envName} vault lacks`, {
        hint: `set it with 'vaultsmith set ${envName} ${r.missingKeys[0]} --value-stdin' (or --generate)`,
      });
    }
  }
  return out;
}
