/**
 * The checks of `vaultsmith check` that need only the manifest and decrypted values (pure). File
 * system checks (password files, .gitignore) live in services/check.ts. Findings name keys, never
 * values.
 */
import type { Manifest, SecretSpec } from './schema.js';
import { estimateStrengthBits, formatProblems, placeholderReason } from './formats.js';
import { RESERVED_KEY_PREFIX, expectedTemplateValue, resolveVariable, scalarToString } from './resolve.js';

export type FindingKind =
  | 'missing-key'
  | 'placeholder'
  | 'bad-format'
  | 'weak'
  | 'shared-value'
  | 'template-mismatch'
  | 'unknown-key'
  | 'missing-value'
  | 'debug-in-production'
  | 'password-file-permissions'
  | 'password-file-in-repository'
  | 'password-file-missing'
  | 'vault-unreadable'
  | 'label-mismatch';

export type Severity = 'error' | 'warning';

export interface Finding {
  env: string;
  /** The vault key, variable or file the finding is about. */
  key: string;
  kind: FindingKind;
  severity: Severity;
  message: string;
}

/** A key is required unless the manifest says `required: false`. */
export function isRequired(spec: SecretSpec | undefined): boolean {
  return spec?.required !== false;
}

/**
 * A key holds a secret (rather than configuration) when nothing but a generator or a person provides
 * it: such values must differ between environments.
 */
export function isSecretValue(spec: SecretSpec): boolean {
  return spec.default === undefined && spec.template === undefined;
}

const TRUTHY = new Set(['1', 'true', 'yes', 'on', 'y', 't']);

/** Findings for one environment's decrypted vault. */
export function checkEnvironmentValues(
  manifest: Manifest,
  envName: string,
  values: Record<string, unknown>,
): Finding[] {
  const findings: Finding[] = [];
  const add = (key: string, kind: FindingKind, severity: Severity, message: string) =>
    findings.push({ env: envName, key, kind, severity, message });
  const secrets = manifest.secrets ?? {};

  for (const [key, spec] of Object.entries(secrets)) {
    const raw = values[key];
    if (raw === undefined || raw === null) {
      if (isRequired(spec)) add(key, 'missing-key', 'error', 'required key is missing from the vault');
      continue;
    }
    const value = scalarToString(raw) ?? '';
    const placeholder = placeholderReason(value, spec.placeholder);
    if (placeholder) {
      add(key, 'placeholder', 'error', `${placeholder} (supply it: vaultsmith set ${envName} ${key} --value-stdin)`);
      continue;
    }
    if (spec.format !== undefined) {
      for (const problem of formatProblems(value, spec.format)) add(key, 'bad-format', 'error', `value ${problem}`);
    }
    if (spec.min_strength !== undefined) {
      const bits = estimateStrengthBits(value);
      if (bits < spec.min_strength) {
        add(key, 'weak', 'error', `estimated strength ${bits} bits is below the required ${spec.min_strength} bits`);
      }
    }
    if (spec.template !== undefined) {
      const expected = expectedTemplateValue(manifest, envName, key, values);
      if (expected.value !== undefined && expected.value !== value) {
        const refs = expected.missing.length ? '' : ` (template ${spec.template})`;
        add(key, 'template-mismatch', 'error', `stored value disagrees with its template${refs}, e.g. an old password inside a URL`);
      }
    }
  }

  for (const key of Object.keys(values)) {
    if (key in secrets || key.startsWith(RESERVED_KEY_PREFIX)) continue;
    add(key, 'unknown-key', 'error', 'key is not declared under secrets in the manifest');
  }

  for (const name of Object.keys(manifest.variables ?? {})) {
    const r = resolveVariable(manifest, envName, name, values);
    // A missing required key is already reported; only report variables that fail for other reasons.
    if (r.status === 'missing' && r.missingKeys.every((k) => !(k in secrets) || !isRequired(secrets[k]))) {
      add(name, 'missing-value', 'error', `variable has no value: vault key ${r.missingKeys.join(', ')} is missing`);
    }
  }

  if (manifest.environments[envName]?.production) {
    const debug = manifest.variables?.DEBUG ? resolveVariable(manifest, envName, 'DEBUG', values) : undefined;
    if (debug?.status === 'ok' && TRUTHY.has(debug.variable.value.trim().toLowerCase())) {
      add('DEBUG', 'debug-in-production', 'error', 'DEBUG is true in a production environment');
    }
  }
  return findings;
}

/**
 * The same secret value in two environments (a staging leak then opens production). Compares the
 * keys that hold secrets; placeholders are reported elsewhere.
 */
export function checkSharedValues(manifest: Manifest, valuesByEnv: Map<string, Record<string, unknown>>): Finding[] {
  const findings: Finding[] = [];
  const envs = [...valuesByEnv.keys()];
  for (const [key, spec] of Object.entries(manifest.secrets ?? {})) {
    if (!isSecretValue(spec)) continue;
    for (let i = 0; i < envs.length; i++) {
      for (let j = i + 1; j < envs.length; j++) {
        const a = scalarToString(valuesByEnv.get(envs[i]!)?.[key]);
        const b = scalarToString(valuesByEnv.get(envs[j]!)?.[key]);
        if (a === undefined || a !== b || placeholderReason(a, spec.placeholder)) continue;
        // A generated value must never repeat; a person-supplied one (a client id) may legitimately.
        const severity: Severity = spec.generate !== undefined ? 'error' : 'warning';
        for (const env of [envs[i]!, envs[j]!]) {
          const other = env === envs[i] ? envs[j] : envs[i];
          findings.push({ env, key, kind: 'shared-value', severity, message: `same value as in ${other}` });
        }
      }
    }
  }
  return findings;
}
