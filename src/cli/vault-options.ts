/**
 * Options shared by the ansible-vault-compatible commands, with ansible-vault's names, and the
 * password-source rules that pick the secrets for each kind of action.
 */
import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { labelsOf, secretNamesOf, withAudit } from '../audit/index.js';
import { VaultsmithError } from '../errors.js';
import type { VaultOutput } from '../services/vault-files.js';
import { loadVaultSecrets, secretsForVaultLabel, selectEncryptSecret, withAnsibleConfig } from '../secrets/index.js';
import type { VaultHeader, VaultSecret } from '../vault/types.js';
import type { CliContext } from './context.js';
import { write } from './output.js';

export const VAULT_OPTIONS = {
  'vault-id': { type: 'string', multiple: true },
  'vault-password-file': { type: 'string', multiple: true },
  'vault-pass-file': { type: 'string', multiple: true },
  'ask-vault-pass': { type: 'boolean' },
  'ask-vault-password': { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v', multiple: true },
} as const;

export const ENCRYPT_VAULT_ID_OPTION = { 'encrypt-vault-id': { type: 'string' } } as const;
export const OUTPUT_OPTION = { output: { type: 'string' } } as const;

export const VAULT_OPTIONS_HELP = `  --vault-id LABEL@SOURCE      a vault identity; SOURCE is a password file, an executable
                               script (a *-client script gets --vault-id LABEL), or 'prompt'
                               (repeatable; tried in order)
  --vault-password-file FILE   a password file or script (alias --vault-pass-file; repeatable)
  --ask-vault-pass             prompt for the vault password (alias --ask-vault-password)
  -v, --verbose                accepted for ansible-vault compatibility
  -h, --help                   show this help`;

export const VAULT_ENV_HELP = `Environment: ANSIBLE_VAULT_PASSWORD_FILE, ANSIBLE_VAULT_IDENTITY_LIST (comma separated),
ANSIBLE_VAULT_IDENTITY, ANSIBLE_VAULT_ENCRYPT_IDENTITY, ANSIBLE_VAULT_ID_MATCH and ANSIBLE_ASK_VAULT_PASS
work as in ansible-vault, and so do their [defaults] keys (vault_password_file, vault_identity_list, ...)
in Ansible's config file ($ANSIBLE_CONFIG, ./ansible.cfg, ~/.ansible.cfg or /etc/ansible/ansible.cfg).
Prompts read without echo from a terminal, or one line from a piped stdin.`;

/** The vault settings a command sees: its environment, completed from Ansible's config file. */
export function vaultSettings(ctx: { env: NodeJS.ProcessEnv; cwd: string }): NodeJS.ProcessEnv {
  return withAnsibleConfig(ctx.env, ctx.cwd);
}

export interface VaultOptionValues {
  'vault-id'?: string[];
  'vault-password-file'?: string[];
  'vault-pass-file'?: string[];
  'ask-vault-pass'?: boolean;
  'ask-vault-password'?: boolean;
  'encrypt-vault-id'?: string;
}

function passwordFiles(values: VaultOptionValues): string[] {
  return [...(values['vault-password-file'] ?? []), ...(values['vault-pass-file'] ?? [])];
}

function askVaultPass(values: VaultOptionValues): boolean {
  return Boolean(values['ask-vault-pass'] || values['ask-vault-password']);
}

/** argparse puts --ask-vault-pass and --vault-password-file in one mutually exclusive group. */
export function checkVaultOptions(command: string, values: VaultOptionValues): void {
  if (askVaultPass(values) && passwordFiles(values).length) {
    throw new VaultsmithError('USAGE', `${command}: argument --vault-password-file/--vault-pass-file: not allowed with argument --ask-vault-password/--ask-vault-pass`);
  }
  for (const id of values['vault-id'] ?? []) {
    if (id.includes(';')) throw new VaultsmithError('USAGE', `'${id}' is not a valid vault id. The character ';' is not allowed in vault ids`);
  }
}

const NO_PASSWORD = "A vault password is required to use Ansible's Vault";

/** Secrets for actions that read vaults (view, decrypt, edit, rekey's old password). */
export async function secretsForReading(values: VaultOptionValues, ctx: CliContext): Promise<VaultSecret[]> {
  const secrets = await loadVaultSecrets(
    { vaultIds: values['vault-id'], passwordFiles: passwordFiles(values), askVaultPass: askVaultPass(values) },
    ctx,
  );
  if (secrets.length === 0) throw new VaultsmithError('PASSWORD_SOURCE', NO_PASSWORD);
  return secrets;
}

/**
 * The one secret an encrypting action uses (create, encrypt, encrypt_string): several candidates
 * need --encrypt-vault-id (or ANSIBLE_VAULT_ENCRYPT_IDENTITY), exactly as ansible-vault.
 */
export async function secretForEncrypting(values: VaultOptionValues, ctx: CliContext): Promise<VaultSecret> {
  const encryptVaultId = values['encrypt-vault-id'] || vaultSettings(ctx).ANSIBLE_VAULT_ENCRYPT_IDENTITY || undefined;
  const secrets = await loadVaultSecrets(
    {
      vaultIds: values['vault-id'],
      passwordFiles: passwordFiles(values),
      askVaultPass: askVaultPass(values),
      createNewPassword: true,
    },
    ctx,
  );
  if (secrets.length > 1 && !encryptVaultId) {
    throw new VaultsmithError(
      'USAGE',
      `The vault-ids ${secrets.map((s) => s.label).join(',')} are available to encrypt. Specify the vault-id to encrypt with --encrypt-vault-id`,
    );
  }
  if (secrets.length === 0) throw new VaultsmithError('PASSWORD_SOURCE', NO_PASSWORD);
  return selectEncryptSecret(secrets, encryptVaultId);
}

/** The header label a secret writes: only the literal `default` means a 1.1 header (as Ansible). */
export function labelForSecret(secret: VaultSecret): string | null {
  return secret.label === 'default' ? null : secret.label;
}

/** ANSIBLE_VAULT_ID_MATCH filter, bound to the command's environment. */
export function headerSecretFilter(env: NodeJS.ProcessEnv) {
  return (secrets: VaultSecret[], header: VaultHeader) => secretsForVaultLabel(secrets, header.label, env);
}

/** "[n/N] name" on one rewritten line, only for many files on a terminal. */
export function progressReporter(ctx: CliContext, total: number): ((done: number, all: number, name: string) => void) | undefined {
  if (total < 5 || !ctx.stderr.isTTY) return undefined;
  return (done, all, name) => {
    ctx.stderr.write(`\r\u001b[K[${done}/${all}] ${name}`);
    if (done === all) ctx.stderr.write('\n');
  };
}

/** ansible-vault prints "<Action> successful" on stderr only when stdout is a terminal. */
export async function reportSuccess(ctx: CliContext, message: string, always = false): Promise<void> {
  if (always || ctx.stdout.isTTY) await write(ctx.stderr, `${message}\n`);
}

/** Resolves a user path against the command's cwd; follows a symlink so the link's target is replaced (as Ansible). */
export async function resolveTarget(ctx: CliContext, path: string): Promise<string> {
  const abs = resolve(ctx.cwd, path);
  return realpath(abs).catch(() => abs);
}

/** `--output`: none (in place), `-` (stdout) or a file (through a symlink to its target, as Ansible writes). */
export async function outputTarget(ctx: CliContext, output: string | undefined): Promise<VaultOutput> {
  if (output === undefined) return { kind: 'in-place' };
  if (output === '-') return { kind: 'stream', stream: ctx.stdout };
  return { kind: 'file', path: await resolveTarget(ctx, output) };
}

/** What a vault command tells the audit trail while it runs: labels and key names, never values. */
export interface VaultAuditNote {
  secrets(secrets: VaultSecret[]): void;
  plaintext(plaintext: Uint8Array): void;
}

/**
 * Runs a vault file command under the audit trail (src/audit): the sinks are checked first, so a
 * command whose access cannot be recorded is refused before any password is asked for; then one
 * event records the files, vault-id labels and top-level key names, with ok, denied or error.
 */
export async function withVaultAudit<T>(ctx: CliContext, command: string, files: string[], fn: (note: VaultAuditNote) => Promise<T>): Promise<T> {
  const named = files.filter((f) => f !== '-');
  const file = named.length === 0 ? null : named.join(', ');
  return withAudit(ctx, { command, file }, async (audit) => {
    const names = new Set<string>();
    return fn({
      secrets: (secrets) => audit.set({ label: labelsOf(secrets) }),
      plaintext: (plaintext) => {
        for (const name of secretNamesOf(plaintext)) names.add(name);
        audit.set({ secrets: [...names] });
      },
    });
  });
}
