/**
 * `get`, `set` and `unset`: read or edit one key of an environment's vault through the manifest.
 * Edits keep the vault's comments, key order and formatting, are validated before anything is
 * written, keep templated keys (the Redis URLs) in step with the values they use, and are atomic.
 */
import { isMap, isScalar, type Document, type Pair } from 'yaml';
import { VaultsmithError } from '../errors.js';
import { generateSecret } from '../gen/index.js';
import { isRequired } from '../manifest/check.js';
import { openEnvironment, type EnvironmentContext } from '../manifest/environment.js';
import { estimateStrengthBits, formatProblems, placeholderReason } from '../manifest/formats.js';
import type { LoadedManifest } from '../manifest/loader.js';
import {
  RESERVED_KEY_PREFIX,
  dependentKeys,
  expectedTemplateValue,
  resolveVariable,
  scalarToString,
} from '../manifest/resolve.js';
import type { SecretSpec } from '../manifest/schema.js';
import { recordSecretChanges } from '../rotate/history.js';
import { wipeSecrets } from '../secrets/index.js';
import { updateVaultValues } from '../store/index.js';

export type NewValue = { kind: 'generate' } | { kind: 'value'; value: string };

export interface SetResult {
  env: string;
  key: string;
  generated: boolean;
  /** Templated keys re-rendered because they use `key` (e.g. vault_redis_url). */
  dependents: string[];
  created: boolean;
}

function assertEditableKey(loaded: LoadedManifest, key: string, force: boolean): SecretSpec | undefined {
  if (key.startsWith(RESERVED_KEY_PREFIX)) {
    throw new VaultsmithError('INPUT', `${key} is reserved for vaultsmith's own state (rotation) and cannot be edited here`);
  }
  const spec = loaded.manifest.secrets?.[key];
  if (!spec && !force) {
    throw new VaultsmithError('INPUT', `${key} is not declared under secrets in ${loaded.path}`, {
      hint: 'declare it in the manifest first, or pass --force to edit an undeclared key',
    });
  }
  return spec;
}

/** Problems that make `value` unfit for `key`; never mentions the value itself. */
export function valueProblems(value: string, spec: SecretSpec | undefined): string[] {
  const problems: string[] = [];
  const placeholder = placeholderReason(value, spec?.placeholder);
  if (placeholder) problems.push(placeholder);
  if (spec?.format !== undefined && !placeholder) problems.push(...formatProblems(value, spec.format).map((p) => `value ${p}`));
  if (spec?.min_strength !== undefined && !placeholder) {
    const bits = estimateStrengthBits(value);
    if (bits < spec.min_strength) problems.push(`estimated strength ${bits} bits is below the required ${spec.min_strength}`);
  }
  return problems;
}

/** Sets `key` in a mapping document: replaces the value in place, or inserts it after `after`. */
function setKey(doc: Document, key: string, value: string | number, after: string[]): boolean {
  const contents = doc.contents;
  if (contents === null || contents === undefined) {
    doc.contents = doc.createNode({ [key]: value });
    return true;
  }
  if (!isMap(contents)) throw new VaultsmithError('INPUT', 'the vault does not hold a mapping of keys to values');
  if (contents.has(key)) {
    contents.set(key, value);
    return false;
  }
  const pair = doc.createPair(key, value) as Pair;
  let index = -1;
  contents.items.forEach((p, i) => {
    if (isScalar(p.key) && after.includes(String(p.key.value))) index = i;
  });
  contents.items.splice(index === -1 ? contents.items.length : index + 1, 0, pair);
  return true;
}

/** Keeps a number a number (a port stays `5432`, not `"5432"`) when the stored value is one. */
function typedLike(previous: unknown, value: string): string | number {
  // Only a canonical number converts: `007` or `1.50` would lose characters as a YAML number.
  return typeof previous === 'number' && /^-?\d+(\.\d+)?$/.test(value) && String(Number(value)) === value ? Number(value) : value;
}

export async function setValue(
  loaded: LoadedManifest,
  envName: string,
  key: string,
  input: NewValue,
  ctx: EnvironmentContext,
  options: { force?: boolean } = {},
): Promise<SetResult> {
  const force = options.force ?? false;
  const spec = assertEditableKey(loaded, key, force);
  if (spec?.template !== undefined && !force) {
    const refs = spec.template.match(/\{([A-Za-z_][A-Za-z0-9_]*)/g)?.map((r) => r.slice(1)) ?? [];
    throw new VaultsmithError('INPUT', `${key} is derived from its template; set ${refs.join(' or ')} instead and it follows`, {
      hint: 'pass --force to store a value that disagrees with the template (check will report it)',
    });
  }
  let value: string;
  if (input.kind === 'generate') {
    if (spec?.generate === undefined) {
      throw new VaultsmithError('USAGE', `${key} has no generator in the manifest; supply the value with --value-stdin or --from-file`);
    }
    value = generateSecret(typeof spec.generate === 'string' ? { kind: spec.generate } : { ...spec.generate });
  } else {
    value = input.value;
  }
  const problems = valueProblems(value, spec);
  if (problems.length) {
    throw new VaultsmithError('INPUT', `refusing to store an invalid value for ${key}: ${problems.join('; ')}`);
  }

  const opened = await openEnvironment(loaded, envName, ctx);
  const secretKeys = Object.keys(loaded.manifest.secrets ?? {});
  const dependents = dependentKeys(loaded.manifest, key);
  let created = false;
  try {
    const values = { ...opened.values, [key]: typedLike(opened.values[key], value) };
    const updates: [string, string | number][] = [[key, values[key] as string | number]];
    for (const dep of dependents) {
      const rendered = expectedTemplateValue(loaded.manifest, envName, dep, values).value;
      if (rendered === undefined) continue;
      if (!(dep in opened.values) && !isRequired(loaded.manifest.secrets?.[dep])) continue;
      // A value fine on its own can still break a key derived from it (a password with `@` or `/`
      // inside a redis:// URL whose template inserts it unescaped): refuse before writing anything.
      const depFormat = loaded.manifest.secrets?.[dep]?.format;
      const depProblems = depFormat === undefined ? [] : formatProblems(rendered, depFormat);
      if (depProblems.length) {
        throw new VaultsmithError('INPUT', `refusing to store this value for ${key}: the derived ${dep} ${depProblems.join('; ')}`, {
          hint: `the template of ${dep} inserts ${key} as is; write {${key}|url} there to percent-encode it, or use a value without URL delimiters`,
        });
      }
      values[dep] = rendered;
      updates.push([dep, rendered]);
    }
    await updateVaultValues(opened.vaultPath, opened.secrets, opened.label, (doc) => {
      for (const [k, v] of updates) {
        const before = secretKeys.slice(0, Math.max(0, secretKeys.indexOf(k)));
        const added = setKey(doc, k, v, before);
        if (k === key) created = added;
      }
    });
    await recordSecretChanges(loaded.dir, envName, updates.map(([k]) => k), 'set');
    return { env: envName, key, generated: input.kind === 'generate', dependents: updates.slice(1).map(([k]) => k), created };
  } finally {
    wipeSecrets(opened.secrets);
  }
}

/**
 * Removes `key` from a mapping document. The comment lines above a key belong to it in the yaml
 * package, but they usually head a group (`# Email (optional)`), so they move to the next key (or
 * to the end of the mapping) instead of disappearing with it.
 */
function deleteKeepingComments(doc: Document, key: string): void {
  const contents = doc.contents;
  if (!isMap(contents)) {
    doc.deleteIn([key]);
    return;
  }
  const index = contents.items.findIndex((p) => isScalar(p.key) && String(p.key.value) === key);
  if (index === -1) return;
  const removed = contents.items[index]!;
  const removedKey = isScalar(removed.key) ? removed.key : undefined;
  const comment = removedKey?.commentBefore;
  contents.items.splice(index, 1);
  if (!comment) return;
  const next = contents.items[index];
  if (next && isScalar(next.key)) {
    next.key.commentBefore = next.key.commentBefore ? `${comment}\n${next.key.commentBefore}` : comment;
    next.key.spaceBefore = next.key.spaceBefore || removedKey?.spaceBefore;
  } else {
    contents.comment = contents.comment ? `${comment}\n${contents.comment}` : comment;
  }
}

export async function unsetValue(
  loaded: LoadedManifest,
  envName: string,
  key: string,
  ctx: EnvironmentContext,
  options: { force?: boolean } = {},
): Promise<void> {
  const spec = loaded.manifest.secrets?.[key];
  if (key.startsWith(RESERVED_KEY_PREFIX)) {
    throw new VaultsmithError('INPUT', `${key} is reserved for vaultsmith's own state (rotation) and cannot be edited here`);
  }
  if (spec && isRequired(spec) && !options.force) {
    throw new VaultsmithError('INPUT', `${key} is required by the manifest; refusing to remove it`, { hint: 'pass --force to remove it anyway' });
  }
  const opened = await openEnvironment(loaded, envName, ctx);
  try {
    if (!(key in opened.values)) throw new VaultsmithError('INPUT', `${key} is not set in the ${envName} vault`);
    await updateVaultValues(opened.vaultPath, opened.secrets, opened.label, (doc) => deleteKeepingComments(doc, key));
  } finally {
    wipeSecrets(opened.secrets);
  }
}

/**
 * The value of a vault key, or of a manifest variable when NAME is not a vault key (so `get production
 * REDIS_URL` works too). Printing it is the command's purpose.
 */
export async function getValue(loaded: LoadedManifest, envName: string, name: string, ctx: EnvironmentContext): Promise<string> {
  if (name.startsWith(RESERVED_KEY_PREFIX)) {
    throw new VaultsmithError('INPUT', `${name} is vaultsmith's own state; use 'vaultsmith status' for rotations`);
  }
  const opened = await openEnvironment(loaded, envName, ctx);
  wipeSecrets(opened.secrets);
  if (name in opened.values) {
    const raw = opened.values[name];
    return scalarToString(raw) ?? '';
  }
  if (loaded.manifest.variables?.[name]) {
    const r = resolveVariable(loaded.manifest, envName, name, opened.values);
    if (r.status === 'ok') return r.variable.value;
    if (r.status === 'missing') throw new VaultsmithError('INPUT', `${name} needs vault key ${r.missingKeys.join(', ')}, which the ${envName} vault lacks`);
    throw new VaultsmithError('INPUT', `${name} is optional and has no value in ${envName}`);
  }
  const declared = loaded.manifest.secrets?.[name] !== undefined;
  throw new VaultsmithError('INPUT', `${name} is not set in the ${envName} vault${declared ? '' : ' (and is neither a declared key nor a variable)'}`);
}
