/**
 * Opening one environment of a manifest: its vault file, its password source and the decrypted,
 * parsed vault values.
 */
import { Writable, type Readable } from 'node:stream';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { VaultsmithError } from '../errors.js';
import { findConflictMarkers } from '../git/yaml-merge.js';
import { readFileOrThrow } from '../internal/safe-write.js';
import { describeYamlError } from '../store/index.js';
import { expandPath, loadVaultSecrets, parseVaultIdSpec } from '../secrets/index.js';
import { isPromptSource } from '../secrets/vault-id.js';
import { decryptVault, vaultYamlTag } from '../vault/index.js';
import type { VaultHeader, VaultSecret } from '../vault/types.js';
import type { LoadedManifest } from './loader.js';
import { assertEnvironment } from './resolve.js';

export interface EnvironmentContext {
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdin: Readable;
  stderr: Writable;
}

export interface EnvironmentLocation {
  name: string;
  /** Absolute path of the environment's vault file. */
  vaultPath: string;
  label: string;
  /** The password source as written in the manifest. */
  source: string;
  /** The password file or script, `~` expanded and resolved against the manifest directory; null for prompts. */
  passwordPath: string | null;
  production: boolean;
}

export interface OpenEnvironment extends EnvironmentLocation {
  secrets: VaultSecret[];
  /** The decrypted vault's top-level keys. */
  values: Record<string, unknown>;
  /** The vault file's header (its label may differ from the manifest's). */
  header: VaultHeader;
}

/** Where an environment's vault and password live, without touching either. */
export function locateEnvironment(loaded: LoadedManifest, envName: string, env: NodeJS.ProcessEnv): EnvironmentLocation {
  assertEnvironment(loaded.manifest, envName);
  const spec = loaded.manifest.environments[envName]!;
  const { label, source } = parseVaultIdSpec(spec.vault_id);
  return {
    name: envName,
    vaultPath: resolve(loaded.dir, spec.vault),
    label,
    source,
    // Relative password sources are relative to the manifest, so the manifest works from any cwd.
    passwordPath: isPromptSource(source) ? null : expandPath(source, env, loaded.dir),
    production: spec.production ?? false,
  };
}

/** Parses decrypted vault text into its top-level mapping. */
export function parseVaultValues(plaintext: string, source: string): Record<string, unknown> {
  const markers = findConflictMarkers(plaintext);
  if (markers.length) {
    throw new VaultsmithError('INPUT', `${source} holds unresolved git merge conflict markers (lines ${markers.join(', ')})`, {
      hint: "resolve them with 'vaultsmith edit' (or ansible-vault edit), keeping one value per key",
    });
  }
  let data: unknown;
  try {
    data = parseYaml(plaintext, { logLevel: 'error', customTags: [vaultYamlTag] });
  } catch (e) {
    throw new VaultsmithError('INPUT', `the decrypted content of ${source} is not valid YAML: ${describeYamlError(e)}`);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new VaultsmithError('INPUT', `the decrypted content of ${source} is not a YAML mapping of keys to values`);
  }
  return data as Record<string, unknown>;
}

/** Loads the environment's password (the manifest's vault id only) and decrypts its vault. */
export async function loadEnvironmentSecrets(location: EnvironmentLocation, ctx: EnvironmentContext): Promise<VaultSecret[]> {
  const spec = location.passwordPath === null ? `${location.label}@${location.source}` : `${location.label}@${location.passwordPath}`;
  // The manifest is authoritative: ANSIBLE_VAULT_* variables do not add or replace its sources.
  // With a single file source a failure is raised as the error; its duplicate warning line is dropped.
  // Prompts keep the real stderr, where their question goes.
  const stderr = location.passwordPath === null ? ctx.stderr : new Writable({ write: (_chunk, _enc, done) => done() });
  return loadVaultSecrets({ vaultIds: [spec], useEnvironment: false, autoPrompt: false }, { ...ctx, stderr });
}

export async function openEnvironment(loaded: LoadedManifest, envName: string, ctx: EnvironmentContext): Promise<OpenEnvironment> {
  const location = locateEnvironment(loaded, envName, ctx.env);
  if (!existsSync(location.vaultPath)) {
    throw new VaultsmithError('IO', `the ${envName} vault ${location.vaultPath} does not exist`, {
      hint: "'vaultsmith init' creates the missing vaults of a manifest (it never overwrites)",
    });
  }
  const secrets = await loadEnvironmentSecrets(location, ctx);
  const text = await readFileOrThrow(location.vaultPath);
  const { plaintext, header } = await decryptVault(text, secrets, { source: location.vaultPath });
  try {
    return { ...location, secrets, header, values: parseVaultValues(plaintext.toString('utf8'), location.vaultPath) };
  } finally {
    plaintext.fill(0);
  }
}
