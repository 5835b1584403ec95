import { accessSync, constants as fsConstants, realpathSync } from 'node:fs';
import { delimiter, join, relative, resolve, sep } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { withAudit } from '../audit/index.js';
import { VaultsmithError } from '../errors.js';
import { installGitIntegration, type InstallStep } from '../git/install.js';
import { maskLines, maskVaultYaml } from '../git/mask.js';
import { repoRoot } from '../git/plumbing.js';
import { findConflictMarkers, mergeVaultYaml } from '../git/yaml-merge.js';
import { readFileOrThrow, safeWrite } from '../internal/safe-write.js';
import { findManifest, loadEnvironmentSecrets, loadManifest, locateEnvironment } from '../manifest/index.js';
import { loadVaultSecrets } from '../secrets/index.js';
import { decryptVault, encryptVault, isEncryptedVault, parseVaultEnvelope } from '../vault/index.js';
import type { VaultSecret } from '../vault/types.js';

export interface GitServiceContext {
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdin: Readable;
  stderr: Writable;
}

/** `VAULTSMITH_SHOW_VALUES=1` makes textconv show real values (opt-in, e.g. for one `git diff`). */
export function showValuesRequested(env: NodeJS.ProcessEnv): boolean {
  return ['1', 'true', 'yes'].includes((env.VAULTSMITH_SHOW_VALUES ?? '').toLowerCase());
}

/**
 * Secrets that may open a vault text seen by a git driver (which gets temp copies, not the real
 * path): the manifest environments whose label matches the header first, then the others, then
 * ANSIBLE_VAULT_* from the environment. Prompts are never used (git drivers have no terminal).
 */
export async function secretsForVaultText(ctx: GitServiceContext, vaultText: Buffer): Promise<VaultSecret[]> {
  const label = parseVaultEnvelope(vaultText.toString('utf8')).header.label;
  const secrets: VaultSecret[] = [];
  const manifestPath = findManifest(ctx.cwd);
  if (manifestPath) {
    const loaded = await loadManifest({ path: manifestPath, cwd: ctx.cwd });
    const names = Object.keys(loaded.manifest.environments);
    const ordered = [...names.filter((n) => locateEnvironment(loaded, n, ctx.env).label === label), ...names];
    for (const name of [...new Set(ordered)]) {
      const location = locateEnvironment(loaded, name, ctx.env);
      if (location.passwordPath === null) continue;
      try {
        secrets.push(...(await loadEnvironmentSecrets(location, ctx)));
      } catch {
        // this developer may not hold every environment's password; others may still fit
      }
      if (location.label === label && secrets.length) break;
    }
  }
  if (ctx.env.ANSIBLE_VAULT_PASSWORD_FILE || ctx.env.ANSIBLE_VAULT_IDENTITY_LIST) {
    secrets.push(...(await loadVaultSecrets({ autoPrompt: false }, ctx).catch(() => [])));
  }
  return secrets;
}

function auditFile(ctx: GitServiceContext, path: string): string {
  const rel = relative(ctx.cwd, resolve(ctx.cwd, path));
  return rel.split(sep).join('/');
}

/**
 * git's textconv: the decrypted YAML with values masked (or shown when asked). A file that is not
 * a vault is passed through; a vault this user cannot open is shown as a one-line note instead of
 * failing the whole `git diff`.
 */
export async function textconvVault(ctx: GitServiceContext, file: string, options: { showValues: boolean }): Promise<string> {
  const data = await readFileOrThrow(resolve(ctx.cwd, file));
  if (!isEncryptedVault(data)) return data.toString('utf8');
  let secrets: VaultSecret[];
  try {
    secrets = await secretsForVaultText(ctx, data);
  } catch (e) {
    return `# vaultsmith: cannot decrypt (${e instanceof Error ? e.message.split('\n')[0] : e})\n`;
  }
  const reveal = async () => {
    const { plaintext, secret } = await decryptVault(data, secrets, { source: file });
    try {
      const text = plaintext.toString('utf8');
      if (options.showValues) return text;
      return findConflictMarkers(text).length ? maskLines(text, secret.password) : maskVaultYaml(text, secret.password);
    } finally {
      plaintext.fill(0);
    }
  };
  try {
    // Masked output reveals no value; showing values is an audited read.
    return options.showValues ? await withAudit(ctx, { command: 'git-diff --show-values', file: auditFile(ctx, file) }, reveal) : await reveal();
  } catch (e) {
    if (e instanceof VaultsmithError && e.code === 'AUDIT') throw e;
    return `# vaultsmith: cannot decrypt (${e instanceof Error ? e.message.split('\n')[0] : e})\n`;
  } finally {
    for (const s of secrets) s.password.fill(0);
  }
}

export interface MergeOutcome {
  conflicts: string[];
}

/**
 * git's merge driver: decrypts base, ours and theirs, merges by key, re-encrypts with ours' label and
 * writes the result over ours. On a conflict the written (still encrypted) plaintext holds conflict
 * markers, which `check` and `view` report.
 */
export async function mergeVaultFiles(
  ctx: GitServiceContext,
  files: { base: string; ours: string; theirs: string; path: string },
): Promise<MergeOutcome> {
  const read = (p: string) => readFileOrThrow(resolve(ctx.cwd, p));
  const [base, ours, theirs] = await Promise.all([read(files.base), read(files.ours), read(files.theirs)]);
  if (!isEncryptedVault(ours)) throw new VaultsmithError('NOT_ENCRYPTED', `${files.path} (ours) is not an encrypted vault; not merging it`);
  const secrets = await secretsForVaultText(ctx, ours);
  return withAudit(ctx, { command: 'git-merge', file: files.path }, async (note) => {
    const open = async (data: Buffer, side: string): Promise<{ text: string; secret: VaultSecret | null; label: string | null }> => {
      if (data.length === 0) return { text: '', secret: null, label: null };
      if (!isEncryptedVault(data)) return { text: data.toString('utf8'), secret: null, label: null };
      const r = await decryptVault(data, secrets, { source: `${files.path} (${side})` });
      const text = r.plaintext.toString('utf8');
      r.plaintext.fill(0);
      return { text, secret: r.secret, label: r.header.label };
    };
    const mine = await open(ours, 'ours');
    const [older, other] = [await open(base, 'base'), await open(theirs, 'theirs')];
    note.set({ label: mine.label ?? 'default' });
    let merged: { text: string; conflicts: string[] };
    try {
      merged = mergeVaultYaml(older.text, mine.text, other.text);
    } catch (e) {
      // Not a YAML mapping on some side: one whole-file conflict, still encrypted.
      merged = {
        text: `<<<<<<< ours\n${mine.text.replace(/\n?$/, '\n')}||||||| base\n${older.text.replace(/\n?$/, '\n')}=======\n${other.text.replace(/\n?$/, '\n')}>>>>>>> theirs\n`,
        conflicts: [`(whole file: ${e instanceof Error ? e.message : e})`],
      };
    }
    note.set({ secrets: merged.conflicts.filter((k) => !k.startsWith('(')) });
    const encrypted = await encryptVault(merged.text, mine.secret!, { label: mine.label ?? null });
    await safeWrite(resolve(ctx.cwd, files.ours), encrypted);
    return { conflicts: merged.conflicts };
  });
}

export async function installGit(
  ctx: GitServiceContext,
  options: { command?: string; patterns?: string[]; manifestPath?: string },
): Promise<{ root: string; steps: InstallStep[] }> {
  const root = await repoRoot(ctx);
  if (!root) throw new VaultsmithError('USAGE', `${ctx.cwd} is not inside a git repository`, { hint: 'run git init first' });
  const vaultPaths: string[] = [];
  const manifestPath = options.manifestPath ?? findManifest(ctx.cwd);
  if (manifestPath) {
    const loaded = await loadManifest({ path: manifestPath, cwd: ctx.cwd });
    for (const name of Object.keys(loaded.manifest.environments)) {
      const rel = relative(root, locateEnvironment(loaded, name, ctx.env).vaultPath).split(sep).join('/');
      if (!rel.startsWith('..')) vaultPaths.push(rel);
    }
  }
  const command = options.command ?? defaultGitCommand(ctx.env);
  const steps = await installGitIntegration(root, ctx.env, { command, vaultPaths: [...new Set(vaultPaths)], patterns: options.patterns });
  return { root, steps };
}

/**
 * How git hooks and drivers should run vaultsmith when --command is not given: `vaultsmith` when it
 * is on PATH; otherwise the CLI that is running now, by absolute path (a checkout run as
 * `node dist/cli.js`, or `npx vaultsmith`), so the hook does not fail with "vaultsmith: not found"
 * and block every commit.
 */
export function defaultGitCommand(env: NodeJS.ProcessEnv, argv: string[] = process.argv): string {
  const onPath = (env.PATH ?? '').split(delimiter).some((dir) => {
    if (!dir) return false;
    try {
      accessSync(join(dir, 'vaultsmith'), fsConstants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (onPath) return 'vaultsmith';
  const script = argv[1];
  if (script && /(^|[\\/])(cli\.js|vaultsmith)$/.test(script)) {
    try {
      return `${shellQuote(process.execPath)} ${shellQuote(realpathSync(script))}`;
    } catch {
      // fall through to the plain name
    }
  }
  return 'vaultsmith';
}

function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
