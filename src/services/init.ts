/**
 * `vaultsmith init`: writes a manifest from a preset, one password file per environment outside the
 * repository, `.gitignore` coverage for them, and each environment's encrypted vault with values
 * generated independently per environment. Never overwrites anything: existing files are kept.
 */
import { existsSync, promises as fsp } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Document, isScalar, Scalar } from 'yaml';
import { VaultsmithError } from '../errors.js';
import { CHARSETS, generateSecret, randomString, type GeneratorSpec } from '../gen/index.js';
import { safeWrite } from '../internal/safe-write.js';
import { loadEnvironmentSecrets, locateEnvironment, type EnvironmentContext } from '../manifest/environment.js';
import { loadManifest, parseManifest, type LoadedManifest } from '../manifest/loader.js';
import { presetManifest, type PresetName } from '../manifest/presets.js';
import { expectedTemplateValue, templatedKeysInOrder, valueForEnvironment } from '../manifest/resolve.js';
import type { Manifest, SecretSpec } from '../manifest/schema.js';
import { recordSecretChanges } from '../rotate/history.js';
import { wipeSecrets } from '../secrets/index.js';
import { createVaultFile } from '../store/index.js';
import { changesMeaningInYaml11 } from '../vault/inline.js';
import { displayPath } from './check.js';
import { ensureGitignoreLine, findRepositoryRoot, isIgnored, isInside } from './repository.js';

/** Password files are 48 alphanumeric characters (~285 bits): strong, and safe in any file format. */
export const PASSWORD_FILE_LENGTH = 48;
export const PASSWORD_FILE_PATTERN = '.vault_pass_*';
/** Written for a required key that has neither generator, default nor declared placeholder. */
export const DEFAULT_PLACEHOLDER = 'CHANGE-ME';

export interface InitOptions {
  /** Directory for vaultsmith.yaml (default: cwd). */
  dir?: string;
  preset?: PresetName;
  /** Project name written into a new manifest (default: the directory's name). */
  project?: string;
}

export type FileStatus = 'created' | 'kept';

export interface InitEnvironmentResult {
  name: string;
  vaultPath: string;
  vault: FileStatus;
  passwordPath: string;
  password: FileStatus;
  /** Keys written as placeholders, to be supplied by a person. */
  placeholders: string[];
  /** Keys filled with freshly generated values. */
  generated: string[];
}

export interface InitResult {
  manifestPath: string;
  manifest: FileStatus;
  gitignore: { path: string; status: 'added' | 'present' };
  environments: InitEnvironmentResult[];
}

function generatorSpecOf(spec: SecretSpec): GeneratorSpec | undefined {
  if (spec.generate === undefined) return undefined;
  return typeof spec.generate === 'string' ? { kind: spec.generate } : { ...spec.generate };
}

export interface InitialEntry {
  key: string;
  value: string | number | boolean;
  group?: string;
  origin: 'generated' | 'default' | 'template' | 'placeholder';
}

/**
 * The initial vault content of one environment, in manifest order: generated secrets (fresh for each
 * call), defaults, placeholders for what a person must supply, and templated keys rendered last.
 * Optional keys without a default or placeholder are left out.
 */
export function initialVaultEntries(manifest: Manifest, envName: string): InitialEntry[] {
  const entries = new Map<string, InitialEntry>();
  const secrets = manifest.secrets ?? {};
  for (const [key, spec] of Object.entries(secrets)) {
    const base = spec.group === undefined ? { key } : { key, group: spec.group };
    const generator = generatorSpecOf(spec);
    if (generator) entries.set(key, { ...base, value: generateSecret(generator), origin: 'generated' });
    else if (spec.default !== undefined) {
      const value = valueForEnvironment(spec.default, envName);
      if (value !== undefined) entries.set(key, { ...base, value, origin: 'default' });
    } else if (spec.template !== undefined) {
      entries.set(key, { ...base, value: '', origin: 'template' });
    } else if (spec.placeholder !== undefined || spec.required !== false) {
      entries.set(key, { ...base, value: spec.placeholder ?? DEFAULT_PLACEHOLDER, origin: 'placeholder' });
    }
  }
  const values: Record<string, unknown> = Object.fromEntries([...entries].map(([k, e]) => [k, e.value]));
  for (const key of templatedKeysInOrder(manifest)) {
    const rendered = expectedTemplateValue(manifest, envName, key, values).value;
    const entry = entries.get(key);
    if (!entry) continue;
    if (rendered === undefined) entries.delete(key);
    else {
      entry.value = rendered;
      values[key] = rendered;
    }
  }
  return [...entries.values()];
}

/** YAML text for a vault: keys in order, a `# Group` comment before each group, as in the guide. */
export function vaultYamlText(project: string, envName: string, entries: InitialEntry[]): string {
  const doc = new Document({});
  doc.commentBefore = ` ${project} — ${envName} secrets (managed with vaultsmith; see vaultsmith.yaml)`;
  let group: string | undefined;
  for (const entry of entries) {
    const pair = doc.createPair(entry.key, entry.value);
    // Ansible reads the vault as YAML 1.1: a default such as `yes` or `12:30` must stay a string.
    if (typeof entry.value === 'string' && isScalar(pair.value) && changesMeaningInYaml11(entry.value)) pair.value.type = Scalar.QUOTE_DOUBLE;
    if (entry.group !== undefined && entry.group !== group && isScalar(pair.key)) {
      pair.key.commentBefore = ` ${entry.group}`;
      pair.key.spaceBefore = group !== undefined || doc.commentBefore === undefined ? true : undefined;
    }
    group = entry.group;
    doc.add(pair);
  }
  return doc.toString({ lineWidth: 0 });
}

async function ensurePasswordFile(path: string): Promise<FileStatus> {
  if (existsSync(path)) return 'kept';
  await fsp.mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const password = randomString(PASSWORD_FILE_LENGTH, CHARSETS.alnum!);
  await safeWrite(path, `${password}\n`, { mode: 0o600, exclusive: true });
  return 'created';
}

function projectNameFor(dir: string): string {
  const name = basename(dir).replace(/[^A-Za-z0-9_.-]/g, '-');
  return name || 'project';
}

export async function initProject(options: InitOptions, ctx: EnvironmentContext): Promise<InitResult> {
  const dir = resolve(ctx.cwd, options.dir ?? '.');
  await fsp.mkdir(dir, { recursive: true });
  const manifestPath = join(dir, 'vaultsmith.yaml');
  let manifestStatus: FileStatus = 'kept';
  let loaded: LoadedManifest;
  let newManifestText: string | undefined;
  if (existsSync(manifestPath)) {
    loaded = await loadManifest({ path: manifestPath, cwd: dir });
  } else {
    newManifestText = presetManifest(options.preset ?? 'minimal', options.project ?? projectNameFor(dir));
    // Validated in memory: nothing reaches the disk until every check below has passed.
    loaded = { path: manifestPath, dir, manifest: parseManifest(newManifestText, manifestPath) };
  }

  const root = findRepositoryRoot(dir);
  const locations = Object.keys(loaded.manifest.environments).map((name) => locateEnvironment(loaded, name, ctx.env));
  for (const location of locations) {
    if (location.passwordPath === null) {
      throw new VaultsmithError('INPUT', `environment ${location.name} reads its password from a prompt; init needs a password file`, {
        hint: `set environments.${location.name}.vault_id to "${location.label}@~/.vault_pass_${location.name}"`,
      });
    }
    if (isInside(root, location.passwordPath)) {
      throw new VaultsmithError('INPUT', `the password file ${location.passwordPath} of ${location.name} would be inside the repository ${root}`, {
        hint: `keep password files outside the repository, e.g. ~/.vault_pass_${location.name}`,
      });
    }
  }
  if (newManifestText !== undefined) {
    await safeWrite(manifestPath, newManifestText, { mode: 0o644, exclusive: true });
    manifestStatus = 'created';
  }

  const probe = join(root, '.vault_pass_probe');
  const gitignorePath = join(root, '.gitignore');
  const gitignoreStatus = (await isIgnored(root, probe)) ? 'present' : (await ensureGitignoreLine(root, PASSWORD_FILE_PATTERN)) ? 'added' : 'present';
  // Rendered environments (`vaultsmith env --format dotenv > .env`) hold plaintext too; scan flags the gap.
  if (!(await isIgnored(root, join(root, '.env')))) await ensureGitignoreLine(root, '.env', 'rendered environment files (vaultsmith env)');

  const environments: InitEnvironmentResult[] = [];
  for (const location of locations) {
    const passwordPath = location.passwordPath!;
    const password = await ensurePasswordFile(passwordPath);
    const result: InitEnvironmentResult = {
      name: location.name,
      vaultPath: location.vaultPath,
      vault: 'kept',
      passwordPath,
      password,
      placeholders: [],
      generated: [],
    };
    if (!existsSync(location.vaultPath)) {
      const entries = initialVaultEntries(loaded.manifest, location.name);
      const secrets = await loadEnvironmentSecrets(location, ctx);
      try {
        await fsp.mkdir(dirname(location.vaultPath), { recursive: true });
        await createVaultFile(location.vaultPath, vaultYamlText(loaded.manifest.project, location.name, entries), secrets[0]!, location.label);
      } finally {
        wipeSecrets(secrets);
      }
      result.vault = 'created';
      result.placeholders = entries.filter((e) => e.origin === 'placeholder').map((e) => e.key);
      result.generated = entries.filter((e) => e.origin === 'generated').map((e) => e.key);
      await recordSecretChanges(loaded.dir, location.name, entries.map((e) => e.key), 'init');
    }
    environments.push(result);
  }
  return { manifestPath, manifest: manifestStatus, gitignore: { path: gitignorePath, status: gitignoreStatus }, environments };
}

export { displayPath };
