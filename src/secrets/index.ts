import type { Readable, Writable } from 'node:stream';
import { VaultsmithError } from '../errors.js';
import type { VaultSecret } from '../vault/types.js';
import { decryptVault } from '../vault/codec.js';
import { isEncryptedVault } from '../vault/format.js';
import { promptLine } from './input.js';
import {
  type PasswordFileKind,
  classifyPasswordFile,
  expandPath,
  readPasswordFileBytes,
  runPasswordScript,
  stripNewlines,
  stripWhitespace,
} from './password-file.js';
import { DEFAULT_VAULT_LABEL, isPromptSource, parseVaultIdSpec, splitListSetting } from './vault-id.js';

import { withAnsibleConfig } from './ansible-config.js';

export { parseVaultIdSpec, DEFAULT_VAULT_LABEL, type VaultIdSpec } from './vault-id.js';
export { findAnsibleConfig, withAnsibleConfig } from './ansible-config.js';
export { expandPath, isClientScript } from './password-file.js';
export { promptLine, readLine, readAll } from './input.js';

export interface VaultSecretsRequest {
  /** `--vault-id` values in order (`label@source`, `source`, `label@prompt`). */
  vaultIds?: string[];
  /** `--vault-password-file` values; they come after the vault ids, as in Ansible. */
  passwordFiles?: string[];
  /** `--ask-vault-pass`. */
  askVaultPass?: boolean;
  /** Prompts ask for a new password twice (create, encrypt, rekey's new password). */
  createNewPassword?: boolean;
  /** Prompt when no source was given at all (Ansible's default: true). */
  autoPrompt?: boolean;
  /**
   * Prepend `ANSIBLE_VAULT_IDENTITY_LIST` and append `ANSIBLE_VAULT_PASSWORD_FILE` (default: true);
   * these and the other vault settings also come from Ansible's config file (ansible.cfg) when the
   * variable is not set.
   */
  useEnvironment?: boolean;
  /** Prepend `ANSIBLE_VAULT_IDENTITY_LIST` (default: useEnvironment). Rekey's new secrets skip it. */
  useIdentityList?: boolean;
}

export interface SecretsContext {
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdin: Readable;
  stderr: Writable;
}

function envFlag(value: string | undefined): boolean {
  return value !== undefined && ['1', 'true', 'yes', 'on', 'y', 't'].includes(value.trim().toLowerCase());
}

/** The label used when a vault id names none (`ANSIBLE_VAULT_IDENTITY`, default `default`). */
export function defaultVaultLabel(env: NodeJS.ProcessEnv): string {
  return env.ANSIBLE_VAULT_IDENTITY?.trim() || DEFAULT_VAULT_LABEL;
}

/**
 * Ansible's `build_vault_ids`: the identity list, then `--vault-id`s, then password files as
 * `default@file`, then a prompt when asked for or when nothing else was given.
 */
export function buildVaultIdList(request: VaultSecretsRequest, env: NodeJS.ProcessEnv): string[] {
  const useEnv = request.useEnvironment ?? true;
  const useIdentityList = request.useIdentityList ?? useEnv;
  const label = defaultVaultLabel(env);
  const ids = [...(useIdentityList ? splitListSetting(env.ANSIBLE_VAULT_IDENTITY_LIST) : []), ...(request.vaultIds ?? [])];
  const files = [...(request.passwordFiles ?? [])];
  if (useEnv && env.ANSIBLE_VAULT_PASSWORD_FILE) files.push(env.ANSIBLE_VAULT_PASSWORD_FILE);
  for (const file of files) ids.push(`${label}@${file}`);
  const ask = request.askVaultPass || (useEnv && envFlag(env.ANSIBLE_ASK_VAULT_PASS));
  if (ask || (ids.length === 0 && (request.autoPrompt ?? true))) ids.push(`${label}@prompt_ask_vault_pass`);
  return ids;
}

async function promptForSecret(
  label: string,
  source: 'prompt' | 'prompt_ask_vault_pass',
  createNew: boolean,
  ctx: SecretsContext,
): Promise<Buffer> {
  // Ansible's prompt texts; `--ask-vault-pass` keeps the old format that Tower matches on.
  const prompts =
    source === 'prompt_ask_vault_pass'
      ? createNew
        ? ['New Vault password: ', 'Confirm New Vault password: ']
        : ['Vault password: ']
      : createNew
        ? [`New vault password (${label}): `, `Confirm new vault password (${label}): `]
        : [`Vault password (${label}): `];
  const answers: Buffer[] = [];
  for (const prompt of prompts) {
    const line = await promptLine(ctx, prompt);
    if (line === null) {
      answers.forEach((a) => a.fill(0));
      const confirming = answers.length > 0;
      throw new VaultsmithError('PASSWORD_SOURCE', `EOFError (ctrl-d) on prompt for (${label})`, {
        hint: confirming
          ? 'a new password is asked twice: pipe it on two lines, or use --vault-id LABEL@FILE'
          : 'pipe the password on stdin or use --vault-id LABEL@FILE',
      });
    }
    const password = Buffer.from(stripWhitespace(line));
    line.fill(0);
    if (password.length === 0) {
      answers.forEach((a) => a.fill(0));
      throw new VaultsmithError('PASSWORD_SOURCE', 'Invalid vault password was provided');
    }
    answers.push(password);
  }
  const [first, ...rest] = answers as [Buffer, ...Buffer[]];
  for (const other of rest) {
    if (!first.equals(other)) {
      answers.forEach((a) => a.fill(0));
      throw new VaultsmithError('PASSWORD_SOURCE', 'Passwords do not match');
    }
    other.fill(0);
  }
  return first;
}

async function loadFromFile(
  label: string,
  labelGiven: boolean,
  path: string,
  kind: PasswordFileKind,
  loaded: VaultSecret[],
  ctx: SecretsContext,
): Promise<VaultSecret> {
  if (kind !== 'file') {
    const password = await runPasswordScript(path, kind, labelGiven ? label : null, ctx);
    return { label, password, source: path };
  }
  const raw = await readPasswordFileBytes(path);
  let content = stripWhitespace(raw);
  if (isEncryptedVault(content)) {
    // A vault-encrypted password file opens with the secrets loaded before it (Ansible does the same).
    if (loaded.length === 0) {
      throw new VaultsmithError(
        'PASSWORD_SOURCE',
        `The vault password file ${path} is vault encrypted and no earlier vault secret can open it`,
        { hint: 'give the secret that opens it first, e.g. --vault-id outer@prompt --vault-id inner@FILE' },
      );
    }
    const { plaintext } = await decryptVault(content, loaded, { source: path });
    content = plaintext;
  }
  const password = Buffer.from(stripNewlines(content));
  raw.fill(0);
  if (password.length === 0) {
    throw new VaultsmithError('PASSWORD_SOURCE', `Invalid vault password was provided from file (${path})`);
  }
  return { label, password, source: path };
}

function asSourceError(e: unknown): VaultsmithError {
  if (e instanceof VaultsmithError && e.code === 'PASSWORD_SOURCE') return e;
  const message = e instanceof Error ? e.message : String(e);
  return new VaultsmithError('PASSWORD_SOURCE', message, { cause: e });
}

/**
 * Loads vault secrets with Ansible's rules (`CLI.setup_vault_secrets`). A password source that fails
 * is reported as a warning on stderr and skipped; if no source worked, the last error is raised.
 * Prompt failures (EOF, mismatch, empty) are raised at once. Errors name the source, never a password.
 */
export async function loadVaultSecrets(request: VaultSecretsRequest, ctx: SecretsContext): Promise<VaultSecret[]> {
  // Settings only: scripts still run with the caller's own environment.
  const settings = request.useEnvironment === false ? ctx.env : withAnsibleConfig(ctx.env, ctx.cwd);
  const defaultLabel = defaultVaultLabel(settings);
  const secrets: VaultSecret[] = [];
  let lastError: VaultsmithError | undefined;
  for (const spec of buildVaultIdList(request, settings)) {
    const { label, source } = parseVaultIdSpec(spec, defaultLabel);
    const labelGiven = spec.includes('@') && spec.indexOf('@') > 0;
    if (isPromptSource(source)) {
      const password = await promptForSecret(label, source as 'prompt' | 'prompt_ask_vault_pass', Boolean(request.createNewPassword), ctx);
      secrets.push({ label, password, source: 'prompt' });
      continue;
    }
    // Ansible's two warnings: finding the file ("getting") and reading or running it ("loading").
    const path = expandPath(source, ctx.env, ctx.cwd);
    let kind: PasswordFileKind;
    try {
      kind = await classifyPasswordFile(path);
    } catch (e) {
      lastError = asSourceError(e);
      ctx.stderr.write(`[WARNING]: Error getting vault password file (${label}): ${lastError.message}\n`);
      continue;
    }
    try {
      secrets.push(await loadFromFile(label, labelGiven, path, kind, secrets, ctx));
    } catch (e) {
      lastError = asSourceError(e);
      ctx.stderr.write(`[WARNING]: Error in vault password file loading (${label}): ${lastError.message}\n`);
    }
  }
  if (secrets.length === 0 && lastError) throw lastError;
  return secrets;
}

/**
 * Ansible's `match_encrypt_secret`: with an encrypt vault id, the first secret with that label (or an
 * error listing the known labels); without one, the first secret.
 */
export function selectEncryptSecret(secrets: VaultSecret[], encryptVaultId?: string | null): VaultSecret {
  if (encryptVaultId) {
    const found = secrets.find((s) => s.label === encryptVaultId);
    if (found) return found;
    throw new VaultsmithError(
      'PASSWORD_SOURCE',
      `Did not find a match for --encrypt-vault-id=${encryptVaultId} in the known vault-ids [${secrets.map((s) => `'${s.label}'`).join(', ')}]`,
    );
  }
  const first = secrets[0];
  if (!first) throw new VaultsmithError('PASSWORD_SOURCE', "A vault password is required to use Ansible's Vault");
  return first;
}

/**
 * The secrets to try for a vault carrying `fileLabel`. With `ANSIBLE_VAULT_ID_MATCH` only secrets with
 * the file's label (or `default` for a 1.1 file) are tried; otherwise all, and the core tries the
 * matching ones first.
 */
export function secretsForVaultLabel(secrets: VaultSecret[], fileLabel: string | null, env: NodeJS.ProcessEnv): VaultSecret[] {
  if (!envFlag(env.ANSIBLE_VAULT_ID_MATCH)) return secrets;
  const wanted = fileLabel ?? defaultVaultLabel(env);
  return secrets.filter((s) => s.label === wanted);
}

/** Zeroes password buffers once a command is done with them. */
export function wipeSecrets(secrets: VaultSecret[]): void {
  for (const s of secrets) s.password.fill(0);
}
