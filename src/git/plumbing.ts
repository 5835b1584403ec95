import { spawn } from 'node:child_process';
import { VaultsmithError } from '../errors.js';

/** Git plumbing through the `git` CLI (porcelain output is for humans and may change). */

export interface GitContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export function runGit(ctx: GitContext, args: string[], options: { input?: string | Buffer; allowFailure?: boolean } = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd: ctx.cwd, env: ctx.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => reject(new VaultsmithError('EXTERNAL', `cannot run git: ${e.message}`, { cause: e })));
    child.on('close', (code) => {
      const result = { code: code ?? 1, stdout: Buffer.concat(out), stderr: err };
      if (result.code !== 0 && !options.allowFailure) {
        reject(new VaultsmithError('EXTERNAL', `git ${args[0]} failed: ${err.trim().split('\n')[0] || `exit ${result.code}`}`));
      } else resolve(result);
    });
    child.stdin.on('error', () => undefined); // git may exit before reading all input
    child.stdin.end(options.input ?? '');
  });
}

/** The work tree's top directory, or null outside a repository. */
export async function repoRoot(ctx: GitContext): Promise<string | null> {
  const r = await runGit(ctx, ['rev-parse', '--show-toplevel'], { allowFailure: true }).catch(() => null);
  if (!r || r.code !== 0) return null;
  return r.stdout.toString('utf8').trim();
}

function splitZ(buf: Buffer): string[] {
  return buf.toString('utf8').split('\0').filter(Boolean);
}

/** Tracked and untracked-but-not-ignored files, relative to the top directory. */
export async function listWorktreeFiles(root: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const r = await runGit({ cwd: root, env }, ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--deduplicate']);
  return splitZ(r.stdout);
}

export interface BlobRef {
  oid: string;
  path: string;
}

/** Blobs staged for the next commit that differ from HEAD (all of the index before the first commit). */
export async function listStagedBlobs(root: string, env: NodeJS.ProcessEnv): Promise<BlobRef[]> {
  const ctx = { cwd: root, env };
  const head = await runGit(ctx, ['rev-parse', '--verify', '-q', 'HEAD'], { allowFailure: true });
  if (head.code !== 0) {
    // `<mode> <oid> <stage>\t<path>`
    return splitZ((await runGit(ctx, ['ls-files', '-s', '-z'])).stdout).map((entry) => {
      const tab = entry.indexOf('\t');
      return { oid: entry.slice(0, tab).split(' ')[1]!, path: entry.slice(tab + 1) };
    });
  }
  // `:<srcmode> <dstmode> <srcoid> <dstoid> <status>\0<path>\0`
  const parts = splitZ((await runGit(ctx, ['diff-index', '--cached', '-z', '--no-renames', '--diff-filter=ACMT', 'HEAD'])).stdout);
  const blobs: BlobRef[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const fields = parts[i]!.split(' ');
    const mode = fields[1]!;
    if (mode === '160000') continue; // submodule commit, not a blob
    blobs.push({ oid: fields[3]!, path: parts[i + 1]! });
  }
  return blobs;
}

/** Every blob reachable from any ref, with the first path it was seen at. */
export async function listHistoryBlobs(root: string, env: NodeJS.ProcessEnv): Promise<BlobRef[]> {
  const r = await runGit({ cwd: root, env }, ['rev-list', '--all', '--objects', '--filter=object:type=blob']);
  const blobs: BlobRef[] = [];
  for (const line of r.stdout.toString('utf8').split('\n')) {
    const space = line.indexOf(' ');
    if (space === -1) continue; // commits carry no path
    blobs.push({ oid: line.slice(0, space), path: line.slice(space + 1) });
  }
  return blobs;
}

/**
 * Streams blob contents through one `git cat-file --batch` process. `onBlob` runs for each in order;
 * objects that are missing are skipped.
 */
export function readBlobs(root: string, env: NodeJS.ProcessEnv, oids: string[], onBlob: (oid: string, data: Buffer, index: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    if (oids.length === 0) return resolve();
    const child = spawn('git', ['cat-file', '--batch'], { cwd: root, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let index = 0;
    let failed = false;
    let stderr = '';
    const fail = (e: unknown) => {
      if (failed) return;
      failed = true;
      child.kill();
      reject(e instanceof VaultsmithError ? e : new VaultsmithError('EXTERNAL', `git cat-file failed: ${e instanceof Error ? e.message : e}`));
    };
    // Chunks are joined only once a whole object is available (no quadratic copying of big blobs).
    const chunks: Buffer[] = [];
    let buffered = 0;
    let header: { oid: string; type: string; size: number } | null = null;
    const take = (n: number): Buffer => {
      const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, buffered);
      chunks.length = 0;
      const rest = all.subarray(n);
      if (rest.length) chunks.push(rest);
      buffered = rest.length;
      return all.subarray(0, n);
    };
    child.stdout.on('data', (d: Buffer) => {
      chunks.push(d);
      buffered += d.length;
      try {
        for (;;) {
          if (!header) {
            if (chunks.length > 1) chunks.splice(0, chunks.length, Buffer.concat(chunks, buffered));
            const nl = chunks[0]?.indexOf(0x0a) ?? -1;
            if (nl === -1) break;
            const fields = take(nl + 1).toString('latin1').trimEnd().split(' ');
            if (fields[1] === 'missing') {
              index++;
              continue;
            }
            const size = Number(fields[2]);
            if (!Number.isInteger(size)) throw new Error(`unexpected header '${fields.join(' ').slice(0, 80)}'`);
            header = { oid: fields[0]!, type: fields[1]!, size };
          }
          if (buffered < header.size + 1) break;
          const data = take(header.size + 1).subarray(0, header.size);
          if (header.type === 'blob') onBlob(header.oid, data, index);
          index++;
          header = null;
        }
      } catch (e) {
        fail(e);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => {
      if (failed) return;
      if (code !== 0) fail(new Error(stderr.trim().split('\n')[0] || `exit ${code}`));
      else resolve();
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(`${oids.join('\n')}\n`);
  });
}

/** The commits that added or removed a blob, oldest first (used only for blobs with findings). */
export async function commitsTouchingBlob(root: string, env: NodeJS.ProcessEnv, oid: string): Promise<string[]> {
  const r = await runGit({ cwd: root, env }, ['log', '--all', '--reverse', '--format=%H', `--find-object=${oid}`], { allowFailure: true });
  return r.code === 0 ? r.stdout.toString('utf8').split('\n').filter(Boolean) : [];
}

export async function gitConfigGet(ctx: GitContext, key: string): Promise<string | null> {
  const r = await runGit(ctx, ['config', '--get', key], { allowFailure: true });
  return r.code === 0 ? r.stdout.toString('utf8').trim() : null;
}

/** `git check-ignore` for paths that need not exist. */
export async function isIgnored(root: string, env: NodeJS.ProcessEnv, path: string): Promise<boolean> {
  const r = await runGit({ cwd: root, env }, ['check-ignore', '-q', '--no-index', '--', path], { allowFailure: true });
  return r.code === 0;
}
