/**
 * `edit` and `create`: the plaintext lives only in a 0600 file inside a private 0700 directory on
 * tmpfs, is overwritten and removed in `finally` and on SIGINT/SIGTERM/SIGHUP, and the vault is replaced
 * atomically only when the editor succeeded and the content changed. The target is locked for the
 * whole session, and a change made on disk meanwhile (e.g. by ansible-vault, which takes no lock) is
 * never overwritten: the edited content is saved encrypted next to it instead.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fsp, constants as fsc, rmSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { VaultsmithError } from '../errors.js';
import { withFileLock } from '../internal/file-lock.js';
import { makePrivateDir } from '../internal/private-tmp.js';
import { safeWrite } from '../internal/safe-write.js';
import { decryptVault, encryptVault, isEncryptedVault } from '../vault/index.js';
import { parseEnvelopeNamed } from './vault-files.js';
import type { VaultHeader, VaultSecret } from '../vault/types.js';
import { splitShellWords } from './vault-shell-words.js';

export interface EditorContext {
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdin: Readable;
  stderr: Writable;
}

export type EditOutcome = { status: 'unchanged' } | { status: 'saved'; label: string | null };

function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

/** Ansible's `_editor_shell_command`: shlex-split `$EDITOR` (default `vi`) plus the file name. */
export function editorCommand(env: NodeJS.ProcessEnv, file: string): string[] {
  const words = splitShellWords(env.EDITOR ?? 'vi');
  if (words.length === 0) throw new VaultsmithError('USAGE', 'EDITOR is empty');
  return [...words, file];
}

/** Synchronous wipe for signal handlers (async work may never run once a signal arrives). */
function wipeDirSync(dir: string): void {
  try {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      try {
        const size = statSync(p).size;
        if (size > 0) writeFileSync(p, Buffer.alloc(size));
      } catch {
        // best effort; removal follows
      }
    }
  } catch {
    return;
  }
  rmSync(dir, { recursive: true, force: true });
}

/** Signals that would otherwise kill us with the plaintext still on tmpfs. */
const CLEANUP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * The lifetime of one plaintext copy. From the moment it exists until it is wiped, SIGINT, SIGTERM
 * and SIGHUP wipe it synchronously and stop the editor; the session then fails and the vault is
 * left unchanged.
 */
interface PlaintextSession {
  file: string;
  interruptedBy: NodeJS.Signals | null;
  editor: ChildProcess | null;
}

function interruptedError(signal: NodeJS.Signals, outcome = 'the vault was left unchanged'): VaultsmithError {
  return new VaultsmithError('EXTERNAL', `edit interrupted by ${signal}; ${outcome}`);
}

/** Runs the editor on the session's file; fails if it cannot start, exits non-zero or is interrupted. */
/** `outcome` says what a failed editor run leaves behind ("nothing was created" for create). */
async function runEditor(session: PlaintextSession, ctx: EditorContext, outcome = 'the vault was left unchanged'): Promise<void> {
  if (session.interruptedBy) throw interruptedError(session.interruptedBy, outcome);
  const [program, ...args] = editorCommand(ctx.env, session.file) as [string, ...string[]];
  // The editor needs the real terminal; with captured streams (tests, pipes) its output goes to stderr.
  const interactive = ctx.stdin === process.stdin;
  const stdio: StdioOptions = interactive ? 'inherit' : ['ignore', 'pipe', 'pipe'];
  const child = spawn(program, args, { cwd: ctx.cwd, env: ctx.env, stdio });
  session.editor = child;
  child.stdout?.on('data', (d: Buffer) => ctx.stderr.write(d));
  child.stderr?.on('data', (d: Buffer) => ctx.stderr.write(d));
  try {
    const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal }));
    }).catch((e: NodeJS.ErrnoException) => {
      throw new VaultsmithError('EXTERNAL', `Unable to execute the command "${[program, ...args].join(' ')}": ${e.code ?? e.message}`, {
        hint: 'set EDITOR to an editor that is installed',
      });
    });
    if (session.interruptedBy) throw interruptedError(session.interruptedBy, outcome);
    if (result.code !== 0) {
      const how = result.signal ? `was killed by ${result.signal}` : `exited with status ${result.code}`;
      throw new VaultsmithError('EXTERNAL', `the editor (${program}) ${how}; ${outcome}`);
    }
  } finally {
    session.editor = null;
  }
}

/**
 * Writes the plaintext into a fresh private temp file named like the target (editors pick syntax by
 * extension), runs `fn`, and wipes the file afterwards, on errors and on signals.
 */
async function withPlaintextFile<T>(
  targetPath: string,
  plaintext: Uint8Array,
  ctx: EditorContext,
  fn: (session: PlaintextSession) => Promise<T>,
): Promise<T> {
  const { dir, cleanup } = await makePrivateDir(ctx.env);
  const session: PlaintextSession = { file: join(dir, basename(targetPath)), interruptedBy: null, editor: null };
  const onSignal = (signal: NodeJS.Signals) => {
    session.interruptedBy = signal;
    wipeDirSync(dir);
    session.editor?.kill(signal === 'SIGINT' ? 'SIGTERM' : signal);
  };
  const handlers = CLEANUP_SIGNALS.map((signal) => [signal, () => onSignal(signal)] as const);
  for (const [signal, handler] of handlers) process.on(signal, handler);
  try {
    const fh = await fsp.open(session.file, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
    try {
      await fh.writeFile(plaintext);
    } finally {
      await fh.close();
    }
    // A signal after the editor finished only wipes the copy; a save already under way completes.
    return await fn(session);
  } finally {
    await cleanup();
    for (const [signal, handler] of handlers) process.off(signal, handler);
  }
}

/** The editor's result; an editor that deleted (or replaced by a directory) its file is a clear failure. */
async function readEdited(session: PlaintextSession, outcome: string): Promise<Buffer> {
  try {
    return await fsp.readFile(session.file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const what = code === 'ENOENT' ? 'removed the file it was given' : `left a file that cannot be read (${code ?? String(e)})`;
    throw new VaultsmithError('EXTERNAL', `the editor ${what}; ${outcome}`);
  }
}

async function readOrThrow(path: string): Promise<Buffer> {
  try {
    return await fsp.readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new VaultsmithError('INPUT', `Unable to read source file (${path}): ${code === 'ENOENT' ? 'No such file or directory' : (code ?? String(e))}`);
  }
}

function conflictPath(path: string, now = new Date()): string {
  return `${path}.vaultsmith-conflict-${now.toISOString().replace(/[:.]/g, '-')}`;
}

export interface EditRequest {
  path: string;
  secrets: VaultSecret[];
  /** Restricts the secrets tried for the file's header (ANSIBLE_VAULT_ID_MATCH). */
  filterSecrets?: (secrets: VaultSecret[], header: VaultHeader) => VaultSecret[];
  /** Sees the decrypted and the saved plaintext (the audit trail takes key names). */
  inspectPlaintext?: (plaintext: Buffer) => void;
}

/**
 * `edit`: decrypts, opens the editor on a private copy, and re-encrypts with the secret that opened
 * the file, keeping its header label, mode and owner. Unchanged content is not rewritten.
 */
export async function editVaultFile(request: EditRequest, ctx: EditorContext): Promise<EditOutcome> {
  const { path } = request;
  return withFileLock(path, async () => {
    const original = await readOrThrow(path);
    if (!isEncryptedVault(original)) {
      throw new VaultsmithError('NOT_ENCRYPTED', `input is not vault encrypted data. ${path} is not a vault encrypted file`);
    }
    const { header } = parseEnvelopeNamed(original, path);
    const candidates = request.filterSecrets ? request.filterSecrets(request.secrets, header) : request.secrets;
    const { plaintext, secret } = await decryptVault(original, candidates, { source: path });
    const before = sha256(plaintext);
    request.inspectPlaintext?.(plaintext);
    return withPlaintextFile(path, plaintext, ctx, async (session) => {
      plaintext.fill(0);
      await runEditor(session, ctx);
      const edited = await readEdited(session, 'the vault was left unchanged');
      try {
        if (sha256(edited).equals(before)) return { status: 'unchanged' } as const;
        request.inspectPlaintext?.(edited);
        const vaultText = await encryptVault(edited, secret, { label: header.label });
        // Someone (ansible-vault takes no lock) changed the file while we edited: keep both.
        const current = await fsp.readFile(path).catch(() => Buffer.alloc(0));
        if (!sha256(current).equals(sha256(original))) {
          const saved = conflictPath(path);
          await safeWrite(saved, vaultText, { exclusive: true, mode: 0o600 });
          throw new VaultsmithError('CONFLICT', `${path} changed on disk while it was being edited; it was not overwritten`, {
            hint: `your edit was saved encrypted as ${saved}; merge it by hand`,
          });
        }
        await safeWrite(path, vaultText);
        return { status: 'saved', label: header.label } as const;
      } finally {
        edited.fill(0);
      }
    });
  });
}

export interface CreateRequest {
  path: string;
  secret: VaultSecret;
  label: string | null;
}

/** `create`: refuses an existing file; the new vault appears only after the editor succeeded. */
export async function createVaultFile(request: CreateRequest, ctx: EditorContext & { warn: (message: string) => void }): Promise<void> {
  const { path } = request;
  const dir = dirname(path);
  const dirStat = await fsp.stat(dir).catch(() => null);
  if (dirStat && !dirStat.isDirectory()) throw new VaultsmithError('INPUT', `cannot create ${path}: ${dir} is not a directory`);
  if (!dirStat) {
    ctx.warn(`${dir} does not exist, creating...`);
    try {
      await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new VaultsmithError('IO', `cannot create directory ${dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  }
  const exists = await fsp.stat(path).then(
    () => true,
    () => false,
  );
  if (exists) throw new VaultsmithError('INPUT', `${path} exists, please use 'edit' instead`);
  await withFileLock(path, () =>
    withPlaintextFile(path, Buffer.alloc(0), ctx, async (session) => {
      await runEditor(session, ctx, 'nothing was created');
      const content = await readEdited(session, 'nothing was created');
      try {
        // Ansible saves a created file even when left empty.
        const vaultText = await encryptVault(content, request.secret, { label: request.label });
        await safeWrite(path, vaultText, { exclusive: true, mode: 0o600 });
      } finally {
        content.fill(0);
      }
    }),
  );
}
