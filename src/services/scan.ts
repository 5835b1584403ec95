import { promises as fsp, type Stats } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { VaultsmithError } from '../errors.js';
import { commitsTouchingBlob, isIgnored, listHistoryBlobs, listStagedBlobs, listWorktreeFiles, readBlobs, repoRoot } from '../git/plumbing.js';
import { loadManifest, locateEnvironment, openEnvironment, type LoadedManifest } from '../manifest/index.js';
import { SecretMatcher, type SecretEncoding, type SecretPattern } from '../scan/matcher.js';
import { isEncryptedVault } from '../vault/index.js';

export type ScanFindingKind = 'secret' | 'unencrypted-vault' | 'password-file-in-repo' | 'password-file-permissions' | 'gitignore-gap';
export type ScanWhere = 'worktree' | 'index' | 'history' | 'filesystem';

/** One problem; names the file, line and secret, never the value. */
export interface ScanFinding {
  kind: ScanFindingKind;
  where: ScanWhere;
  /** Relative to the repository (or scan) root; absolute for files outside it. */
  file: string;
  line?: number;
  secret?: string;
  environments?: string[];
  encoding?: SecretEncoding;
  /** For history findings: the commits that added or removed the blob. */
  commits?: string[];
  message: string;
}

export interface ScanStats {
  files: number;
  bytes: number;
  seconds: number;
  filesPerSecond: number;
  megabytesPerSecond: number;
}

export interface ScanReport {
  root: string;
  secretsSearched: number;
  environments: string[];
  /** Environments whose vault could not be opened (their secrets were not searched). */
  warnings: string[];
  findings: ScanFinding[];
  stats: ScanStats;
}

export interface ScanOptions {
  paths?: string[];
  staged?: boolean;
  gitHistory?: boolean;
  manifestPath?: string;
  /** Limit to these environments (default: all). */
  environments?: string[];
}

export interface ScanContext {
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdin: Readable;
  stderr: Writable;
}

const PREVIOUS_KEYS: Record<string, string> = { vaultsmith_previous: 'previous', vaultsmith_pending: 'pending' };

/** Names that only password files have (Ansible's `.vault_pass*` habit and its variants). */
export function looksLikePasswordFile(path: string): boolean {
  return /^\.?vault[_-]?pass(word)?([_.-].*)?$/i.test(basename(path)) && !/\.(ya?ml|md|txt\.example|example|sample|j2|py|sh|ts|js)$/i.test(path);
}

/** Names of files meant to be encrypted vaults. */
export function looksLikeVaultFile(path: string): boolean {
  return /^vault([_.-][^/]*)?\.ya?ml$/i.test(basename(path));
}

/** Plain YAML with inline `!vault` values is a legitimate way to keep a vault file. */
function isVaultContentSafe(data: Buffer): boolean {
  if (data.length === 0) return true;
  if (isEncryptedVault(data)) return true;
  const text = data.toString('utf8');
  const meaningful = text.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#') && l.trim() !== '---');
  if (meaningful.length === 0) return true;
  // Every top-level value inline-encrypted → fine; any plain scalar value → a plaintext vault.
  return !meaningful.some((l) => /^[^\s#][^:]*:\s*[^\s|>!]/.test(l) && !/:\s*!vault\b/.test(l));
}

/**
 * Ansible's convention prefixes variables kept in vaults with `vault_`; a top-level `vault_x: value`
 * in a plain YAML file is a vault variable outside its vault (references like "{{ vault_x }}" and
 * inline `!vault` values are fine). Returns the 1-based line or 0.
 */
function plainVaultVariableLine(data: Buffer): number {
  if (data.length > 1_000_000 || data.indexOf('vault_') === -1 || isEncryptedVault(data)) return 0;
  const lines = data.toString('utf8').split('\n');
  const index = lines.findIndex((l) => /^vault_[A-Za-z0-9_]*:[ \t]*(?!!vault\b)(?!["']?\{\{)[^\s#|>]/.test(l));
  return index + 1;
}

function stringLeaves(value: unknown, name: string, out: Array<{ name: string; value: string }>): void {
  if (typeof value === 'string') out.push({ name, value });
  else if (Array.isArray(value)) value.forEach((v, i) => stringLeaves(v, `${name}[${i}]`, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) stringLeaves(v, `${name}.${k}`, out);
  }
}

/**
 * The values to look for in one environment: the manifest's secrets (without plain defaults and
 * unreplaced placeholders), or every vault value when the manifest declares none, plus the previous
 * and pending values kept by rotation.
 */
export function secretPatternsOf(loaded: LoadedManifest, envName: string, values: Record<string, unknown>): SecretPattern[] {
  const declared = loaded.manifest.secrets ?? {};
  const declaredKeys = Object.keys(declared);
  const isSecretKey = (key: string) => {
    if (key.startsWith('vaultsmith_')) return false;
    if (declaredKeys.length === 0) return true;
    const spec = declared[key];
    return spec !== undefined && spec.default === undefined;
  };
  const placeholder = (key: string) => declared[key]?.placeholder;
  const leaves: Array<{ name: string; value: string }> = [];
  for (const [key, value] of Object.entries(values)) {
    if (isSecretKey(key)) stringLeaves(value, key, leaves);
    const kept = PREVIOUS_KEYS[key];
    if (kept && value && typeof value === 'object') {
      for (const [inner, v] of Object.entries(value as Record<string, unknown>)) {
        if (isSecretKey(inner)) stringLeaves(v, `${inner} (${kept})`, leaves);
      }
    }
  }
  return leaves
    .filter((l) => l.value !== placeholder(l.name.split(/[ .[]/)[0]!))
    .map((l) => ({ name: l.name, value: l.value, environment: envName }));
}

function toRel(root: string, path: string): string {
  const rel = relative(root, path);
  return rel.startsWith('..') || isAbsolute(rel) ? path : rel.split(sep).join('/');
}

async function walk(dir: string, root: string, out: string[]): Promise<void> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    if (entry.name === '.git' || entry.name === 'node_modules') continue;
    const p = join(dir, entry.name);
    if (entry.isDirectory()) await walk(p, root, out);
    else if (entry.isFile()) out.push(toRel(root, p));
  }
}

function inScope(file: string, scopes: string[] | null): boolean {
  if (!scopes) return true;
  return scopes.some((s) => s === '' || s === '.' || file === s || file.startsWith(s.endsWith('/') ? s : `${s}/`));
}

/** Scans the working tree, the index and/or the history for secret values and vault hygiene problems. */
export async function scanProject(ctx: ScanContext, options: ScanOptions = {}): Promise<ScanReport> {
  const loaded = await loadManifest({ path: options.manifestPath, cwd: ctx.cwd });
  if (!options.staged && !options.gitHistory) {
    // A mistyped PATH would otherwise scan nothing and pass (as grep does, name it and fail).
    for (const p of options.paths ?? []) {
      const exists = await fsp.lstat(resolve(ctx.cwd, p)).then(() => true, () => false);
      if (!exists) throw new VaultsmithError('USAGE', `scan: ${p}: no such file or directory`);
    }
  }
  const gitRoot = await repoRoot({ cwd: ctx.cwd, env: ctx.env });
  const root = gitRoot ?? loaded.dir;
  const envNames = options.environments?.length ? options.environments : Object.keys(loaded.manifest.environments);

  // 1. Decrypt every environment's vault: what is secret right now (and before, with rotation).
  const patterns: SecretPattern[] = [];
  const warnings: string[] = [];
  const findings: ScanFinding[] = [];
  const vaultFiles = new Set<string>();
  const passwordFiles: Array<{ env: string; path: string }> = [];
  for (const envName of envNames) {
    const location = locateEnvironment(loaded, envName, ctx.env);
    vaultFiles.add(toRel(root, location.vaultPath));
    if (location.passwordPath) passwordFiles.push({ env: envName, path: location.passwordPath });
    try {
      const opened = await openEnvironment(loaded, envName, ctx);
      patterns.push(...secretPatternsOf(loaded, envName, opened.values));
      // The vault password itself must not leak either.
      for (const s of opened.secrets) {
        patterns.push({ name: `vault password (${s.label})`, value: s.password.toString('utf8'), environment: envName });
        s.password.fill(0);
      }
    } catch (e) {
      warnings.push(`environment ${envName}: not searched (${e instanceof Error ? e.message.split('\n')[0] : e})`);
    }
  }
  const matcher = new SecretMatcher(patterns);

  // 2. Blobs: each read once and run through the one automaton.
  const scopes = options.paths?.length ? options.paths.map((p) => toRel(root, resolve(ctx.cwd, p))) : null;
  let files = 0;
  let bytes = 0;
  const started = process.hrtime.bigint();
  const inspect = (where: ScanWhere, file: string, data: Buffer, commits?: string[]) => {
    files++;
    bytes += data.length;
    for (const m of matcher.find(data)) {
      findings.push({
        kind: 'secret',
        where,
        file,
        line: m.line,
        secret: m.names.join(', '),
        environments: m.environments,
        encoding: m.encoding,
        ...(commits ? { commits } : {}),
        message: `${m.encoding === 'plain' ? 'plaintext' : `${m.encoding}-encoded`} value of secret ${m.names.join(', ')} (${m.environments.join(', ')})`,
      });
    }
    if (looksLikeVaultFile(file) || vaultFiles.has(file)) {
      if (!isVaultContentSafe(data)) {
        findings.push({ kind: 'unencrypted-vault', where, file, message: 'looks like a vault file but is not encrypted' });
      }
    } else if (/\.ya?ml$/i.test(file)) {
      const line = plainVaultVariableLine(data);
      if (line) findings.push({ kind: 'unencrypted-vault', where, file, line, message: "a plaintext 'vault_' variable (Ansible keeps those in encrypted vault files)" });
    }
    if (looksLikePasswordFile(file) && where !== 'history') {
      findings.push({ kind: 'password-file-in-repo', where, file, message: 'a vault password file inside the repository' });
    }
  };

  const wantWorktree = !options.staged && !options.gitHistory;
  if (wantWorktree) {
    const list: string[] = [];
    if (gitRoot) list.push(...(await listWorktreeFiles(gitRoot, ctx.env)));
    else await walk(root, root, list);
    // A few reads in flight hide file-system latency; matching stays on this thread.
    const queue = list.filter((file) => inScope(file, scopes));
    const readOne = async (file: string): Promise<Buffer | null> => {
      try {
        const st: Stats = await fsp.lstat(join(root, file));
        return st.isFile() ? await fsp.readFile(join(root, file)) : null;
      } catch {
        return null; // deleted but still in the index
      }
    };
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(16, queue.length) }, async () => {
        while (next < queue.length) {
          const file = queue[next++]!;
          const data = await readOne(file);
          if (data) inspect('worktree', file, data);
        }
      }),
    );
  }
  if (options.staged || options.gitHistory) {
    if (!gitRoot) throw new VaultsmithError('USAGE', `${options.staged ? '--staged' : '--git-history'} needs a git repository`);
  }
  if (options.staged && gitRoot) {
    const staged = (await listStagedBlobs(gitRoot, ctx.env)).filter((b) => inScope(b.path, scopes));
    await readBlobs(gitRoot, ctx.env, staged.map((b) => b.oid), (_oid, data, i) => inspect('index', staged[i]!.path, data));
  }
  if (options.gitHistory && gitRoot) {
    const blobs = (await listHistoryBlobs(gitRoot, ctx.env)).filter((b) => inScope(b.path, scopes));
    const hits: Array<{ index: number; oid: string }> = [];
    await readBlobs(gitRoot, ctx.env, blobs.map((b) => b.oid), (oid, data, i) => {
      const before = findings.length;
      inspect('history', blobs[i]!.path, data);
      if (findings.length > before) hits.push({ index: before, oid });
    });
    // Name the commits only for the (few) blobs with findings.
    for (let h = 0; h < hits.length; h++) {
      const commits = await commitsTouchingBlob(gitRoot, ctx.env, hits[h]!.oid);
      const end = hits[h + 1]?.index ?? findings.length;
      for (let f = hits[h]!.index; f < end; f++) findings[f]!.commits = commits;
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;

  // 3. Hygiene outside the blobs: password files' place and permissions, .gitignore coverage.
  for (const { env, path } of passwordFiles) {
    let st: Stats;
    try {
      st = await fsp.stat(path);
    } catch {
      continue;
    }
    const rel = toRel(root, path);
    if (rel !== path && !findings.some((f) => f.kind === 'password-file-in-repo' && f.file === rel)) {
      findings.push({ kind: 'password-file-in-repo', where: 'filesystem', file: rel, message: `the password file of environment ${env} is inside the repository` });
    }
    const executable = (st.mode & 0o111) !== 0;
    if (!executable && (st.mode & 0o077) !== 0) {
      findings.push({
        kind: 'password-file-permissions',
        where: 'filesystem',
        file: rel,
        message: `the password file of environment ${env} has mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}; readable by group/others (chmod 600)`,
      });
    }
  }
  if (gitRoot && wantWorktree) {
    const mustIgnore: Array<[string, string]> = [
      ['.vault_pass_example', ".vault_pass_* (vault password files): add '.vault_pass*' to .gitignore"],
      ['.env', ".env (rendered environment files hold plaintext): add '.env' to .gitignore"],
    ];
    for (const [sample, message] of mustIgnore) {
      if (!(await isIgnored(gitRoot, ctx.env, sample))) {
        findings.push({ kind: 'gitignore-gap', where: 'filesystem', file: '.gitignore', message: `not ignored: ${message}` });
      }
    }
    for (const { path } of passwordFiles) {
      const rel = toRel(root, path);
      if (rel !== path && !(await isIgnored(gitRoot, ctx.env, rel))) {
        findings.push({ kind: 'gitignore-gap', where: 'filesystem', file: rel, message: 'this password file is not ignored by git' });
      }
    }
  }

  const order: Record<ScanWhere, number> = { worktree: 0, index: 1, history: 2, filesystem: 3 };
  findings.sort((a, b) => order[a.where] - order[b.where] || a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0));
  return {
    root,
    secretsSearched: matcher.secretCount,
    environments: envNames,
    warnings,
    findings,
    stats: {
      files,
      bytes,
      seconds,
      filesPerSecond: seconds > 0 ? files / seconds : files,
      megabytesPerSecond: seconds > 0 ? bytes / 1e6 / seconds : 0,
    },
  };
}
