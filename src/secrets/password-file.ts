import { spawn } from 'node:child_process';
import { promises as fsp, constants as fsc } from 'node:fs';
import { homedir } from 'node:os';
import { basename, extname, isAbsolute, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { VaultsmithError } from '../errors.js';

/** Python's `os.path.expandvars`: `$NAME` and `${NAME}` from env; unknown variables are left as written. */
export function expandVars(path: string, env: NodeJS.ProcessEnv): string {
  return path.replace(/\$(\w+|\{[^}]*\})/g, (whole, name: string) => {
    const key = name.startsWith('{') ? name.slice(1, -1) : name;
    return env[key] ?? whole;
  });
}

/**
 * Ansible's unfrackpath: expands `$VARS`, then `~` / `~/x`, and resolves relative paths against the
 * command's cwd.
 */
export function expandPath(path: string, env: NodeJS.ProcessEnv, cwd: string): string {
  let p = expandVars(path, env);
  if (p === '~' || p.startsWith('~/')) p = (env.HOME || homedir()) + p.slice(1);
  return isAbsolute(p) ? p : resolve(cwd, p);
}

/** `something-client` or `something-client.py`: Ansible passes these `--vault-id <label>`. */
export function isClientScript(path: string): boolean {
  const name = basename(path);
  const ext = extname(name);
  return (ext ? name.slice(0, -ext.length) : name).endsWith('-client');
}

/** Python's bytes.strip(): ASCII whitespace at both ends. */
export function stripWhitespace(data: Buffer): Buffer {
  const ws = (b: number | undefined) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0b || b === 0x0c;
  let start = 0;
  let end = data.length;
  while (start < end && ws(data[start])) start++;
  while (end > start && ws(data[end - 1])) end--;
  return data.subarray(start, end);
}

/** Strips only CR and LF at both ends (Ansible does this to script output). */
export function stripNewlines(data: Buffer): Buffer {
  let start = 0;
  let end = data.length;
  while (start < end && (data[start] === 0x0a || data[start] === 0x0d)) start++;
  while (end > start && (data[end - 1] === 0x0a || data[end - 1] === 0x0d)) end--;
  return data.subarray(start, end);
}

export type PasswordFileKind = 'file' | 'script' | 'client-script';

export async function classifyPasswordFile(path: string): Promise<PasswordFileKind> {
  let st;
  try {
    st = await fsp.stat(path);
  } catch {
    throw new VaultsmithError('PASSWORD_SOURCE', `The vault password file ${path} was not found`);
  }
  if (st.isDirectory()) throw new VaultsmithError('PASSWORD_SOURCE', `The vault password file ${path} is a directory`);
  let executable = false;
  try {
    await fsp.access(path, fsc.X_OK);
    executable = (st.mode & 0o111) !== 0;
  } catch {
    executable = false;
  }
  if (!executable) return 'file';
  return isClientScript(path) ? 'client-script' : 'script';
}

export async function readPasswordFileBytes(path: string): Promise<Buffer> {
  try {
    return await fsp.readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new VaultsmithError('PASSWORD_SOURCE', `Could not read vault password file ${path}: ${code}`);
  }
}

/** True when the file starts like something execve() runs itself: "#!" or an ELF header. */
async function looksRunnable(path: string): Promise<boolean> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(path, 'r');
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    const start = head.subarray(0, bytesRead);
    return start.subarray(0, 2).toString('latin1') === '#!' || start.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } catch {
    return true; // unreadable but executable: let the run report it
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

export interface ScriptRun {
  stdin: Readable;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/**
 * Runs a password script and returns its stdout with CR/LF stripped. Plain scripts get no arguments;
 * `*-client` scripts get `--vault-id <label>` and exit 2 when they do not know the label (Ansible's
 * protocol). The password never appears in argv or in the child's environment.
 */
export async function runPasswordScript(
  path: string,
  kind: 'script' | 'client-script',
  label: string | null,
  options: ScriptRun,
): Promise<Buffer> {
  const what = kind === 'client-script' ? 'Vault password client script' : 'Vault password script';
  // Only a real program or a "#!" script is run. The C library would hand any other executable
  // file to /bin/sh, running a plain password file (one with a stray executable bit) as shell
  // commands and echoing the password in the shell's error. Ansible refuses such a file too.
  if (!(await looksRunnable(path))) {
    throw new VaultsmithError(
      'PASSWORD_SOURCE',
      `Problem running ${what.toLowerCase()} ${path} (ENOEXEC: it is neither a "#!" script nor a program). If this is not a script, remove the executable bit from the file.`,
    );
  }
  const args = kind === 'client-script' && label ? ['--vault-id', label] : [];
  // Scripts may prompt on the terminal, so they share our real stdin when we have one.
  const stdinMode = options.stdin === process.stdin ? 'inherit' : 'ignore';
  const { code, stdout, stderr, spawnError } = await new Promise<{
    code: number | null;
    stdout: Buffer;
    stderr: string;
    spawnError?: Error;
  }>((resolveRun) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let child;
    try {
      child = spawn(path, args, { cwd: options.cwd, env: options.env, stdio: [stdinMode, 'pipe', 'pipe'] });
    } catch (e) {
      resolveRun({ code: null, stdout: Buffer.alloc(0), stderr: '', spawnError: e as Error });
      return;
    }
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => resolveRun({ code: null, stdout: Buffer.alloc(0), stderr: '', spawnError: e }));
    child.on('close', (status) =>
      resolveRun({ code: status, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }),
    );
  });
  if (spawnError) {
    throw new VaultsmithError(
      'PASSWORD_SOURCE',
      `Problem running ${what.toLowerCase()} ${path} (${(spawnError as NodeJS.ErrnoException).code ?? spawnError.message}). ` +
        'If this is not a script, remove the executable bit from the file.',
    );
  }
  // Only the first stderr line: enough to explain, short enough for a one-line error.
  const reason = stderr.trim().split('\n')[0] ?? '';
  if (kind === 'client-script' && code === 2) {
    throw new VaultsmithError('PASSWORD_SOURCE', `${what} ${path} did not find a secret for vault-id=${label ?? 'None'}: ${reason}`);
  }
  if (code !== 0) {
    const forId = kind === 'client-script' ? ` when getting secret for vault-id=${label ?? 'None'}` : '';
    throw new VaultsmithError('PASSWORD_SOURCE', `${what} ${path} returned non-zero (${code})${forId}: ${reason}`);
  }
  const password = stripNewlines(stdout);
  if (password.length === 0) {
    throw new VaultsmithError('PASSWORD_SOURCE', `Invalid vault password was provided from script (${path})`);
  }
  return Buffer.from(password);
}
