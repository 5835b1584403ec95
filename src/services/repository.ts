/**
 * The project repository around a manifest: where it starts, whether a path lies inside it and
 * whether git ignores it, and keeping `.gitignore` covering the password files.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { safeWrite } from '../internal/safe-write.js';

/** The nearest directory at or above `dir` holding `.git`; `dir` itself when there is none. */
export function findRepositoryRoot(dir: string): string {
  let current = resolve(dir);
  for (;;) {
    if (existsSync(join(current, '.git'))) return current;
    const parent = dirname(current);
    if (parent === current) return resolve(dir);
    current = parent;
  }
}

export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && rel !== '..');
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** A small .gitignore matcher for machines without git: plain globs, `/`-anchoring and `!` negation. */
export function matchesGitignore(gitignoreText: string, relativePath: string): boolean {
  const parts = relativePath.split(sep).join('/');
  const segments = parts.split('/');
  let ignored = false;
  for (let line of gitignoreText.split(/\r?\n/)) {
    line = line.trim();
    if (!line || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    if (negate) line = line.slice(1);
    const anchored = line.startsWith('/') || line.slice(0, -1).includes('/');
    const pattern = globToRegExp(line.replace(/^\//, '').replace(/\/$/, ''));
    const hit = anchored
      ? segments.some((_, i) => pattern.test(segments.slice(0, i + 1).join('/')))
      : segments.some((segment) => pattern.test(segment));
    if (hit) ignored = !negate;
  }
  return ignored;
}

/** Whether git would ignore `path` (inside `root`). Uses git when present, else `.gitignore`. */
export async function isIgnored(root: string, path: string): Promise<boolean> {
  if (existsSync(join(root, '.git'))) {
    const r = spawnSync('git', ['-C', root, 'check-ignore', '-q', '--', path], { stdio: 'ignore', timeout: 5000 });
    if (r.status === 0) return true;
    if (r.status === 1) return false;
  }
  let text = '';
  try {
    text = await fsp.readFile(join(root, '.gitignore'), 'utf8');
  } catch {
    return false;
  }
  return matchesGitignore(text, relative(root, path));
}

/** Appends `pattern` to `<root>/.gitignore` unless a line already equals it; true when it was added. */
export async function ensureGitignoreLine(root: string, pattern: string, comment = 'vault password files (vaultsmith)'): Promise<boolean> {
  const path = join(root, '.gitignore');
  let text = '';
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (text.split(/\r?\n/).some((l) => l.trim() === pattern)) return false;
  const prefix = text === '' || text.endsWith('\n') ? text : `${text}\n`;
  await safeWrite(path, `${prefix}# ${comment}\n${pattern}\n`, { mode: 0o644 });
  return true;
}
