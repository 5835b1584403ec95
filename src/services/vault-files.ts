/**
 * Use cases behind `encrypt`, `decrypt`, `view` and `rekey`: whole files in, results out. Every file
 * is read and transformed first (in parallel: key derivation runs on the thread pool) and only then
 * written, so one bad file in a batch leaves every file untouched. Big files go through the
 * streaming core to keep memory bounded.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp, constants as fsc, existsSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { DecryptionFailedError, VaultsmithError } from '../errors.js';
import { releaseHeldLocksSync, withFileLocks } from '../internal/file-lock.js';
import { ioError, safeWrite } from '../internal/safe-write.js';
// Imported from the modules, not the vault index, so the YAML parser behind inline values is only
// loaded when a file actually holds `!vault` values (start-up time of every vault command).
import { decryptEnvelope, encryptVaultBytes } from '../vault/codec.js';
import { isEncryptedVault, parseVaultEnvelope, parseVaultHeader } from '../vault/format.js';
import { decryptVaultFile, decryptVaultStream, encryptVaultFile, encryptVaultStream, rekeyVaultFile } from '../vault/stream.js';
import { commitStaged as commitStagedFiles, stageFile } from '../vault/staged-write.js';
import type { VaultHeader, VaultSecret } from '../vault/types.js';

/** Files at least this big are streamed instead of loaded whole. */
export const STREAM_THRESHOLD_BYTES = 16 * 1024 * 1024;

/** A file path, or bytes already read (stdin) with a display name. */
export type VaultInput =
  | {
      path: string;
      name?: string;
      /** Vault text read from stdin into an unlinked temp file (see spoolVaultText): never rewritten in place. */
      spooled?: boolean;
    }
  | { name: string; data: Buffer };

/**
 * Reads vault text (ciphertext: nothing secret) from a stream, such as stdin. Up to the streaming
 * threshold it stays in memory; beyond, it goes to a 0600 temp file that is unlinked at once and
 * read back through its descriptor (`/proc/self/fd/N`), so big vaults piped in are decrypted with
 * bounded memory and nothing is left on disk. `close` releases the file.
 */
export async function spoolVaultText(stream: Readable, name: string): Promise<{ input: VaultInput; close: () => Promise<void> }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let handle: fsp.FileHandle | null = null;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (!handle && size + data.length > STREAM_THRESHOLD_BYTES) {
        const dir = await fsp.mkdtemp(join(tmpdir(), 'vaultsmith-stdin-'));
        try {
          handle = await fsp.open(join(dir, 'vault'), fsc.O_RDWR | fsc.O_CREAT | fsc.O_EXCL, 0o600);
        } finally {
          await fsp.rm(dir, { recursive: true, force: true });
        }
        for (const held of chunks) await handle.write(held);
        chunks.length = 0;
      }
      size += data.length;
      if (handle) await handle.write(data);
      else chunks.push(data);
    }
  } catch (e) {
    await handle?.close().catch(() => undefined);
    throw e instanceof VaultsmithError ? e : ioError('cannot read', name, e);
  }
  if (!handle) return { input: { name, data: Buffer.concat(chunks) }, close: async () => undefined };
  const open = handle;
  const fdPath = existsSync('/proc/self/fd') ? `/proc/self/fd/${open.fd}` : `/dev/fd/${open.fd}`;
  return { input: { path: fdPath, name, spooled: true }, close: () => open.close().catch(() => undefined) };
}

/** Where results go: back over the input, to one file, or to a stream (stdout). */
export type VaultOutput = { kind: 'in-place' } | { kind: 'file'; path: string } | { kind: 'stream'; stream: Writable };

export interface FileOptions {
  /** Progress after each file is prepared (for a TTY progress line). */
  onProgress?: (done: number, total: number, name: string) => void;
  /** Limits which secrets are tried for a given header (ANSIBLE_VAULT_ID_MATCH). */
  filterSecrets?: (secrets: VaultSecret[], header: VaultHeader) => VaultSecret[];
  /** Sees each decrypted plaintext before it is written or wiped (the audit trail takes key names). */
  inspectPlaintext?: (plaintext: Buffer) => void;
}

/** The name for messages: the path as the user typed it when known (as ansible-vault shows it). */
export function inputName(input: VaultInput): string {
  return 'path' in input ? (input.name ?? input.path) : input.name;
}

function readError(name: string, e: unknown): VaultsmithError {
  const code = (e as NodeJS.ErrnoException)?.code;
  const reason =
    code === 'ENOENT'
      ? 'No such file or directory'
      : code === 'EACCES'
        ? 'Permission denied'
        : code === 'EISDIR'
          ? 'Is a directory'
          : (code ?? String(e));
  // Ansible's wording: "Unable to read source file (<name>): <reason>".
  return new VaultsmithError('INPUT', `Unable to read source file (${name}): ${reason}`, { cause: e });
}

async function fileSize(path: string, name = path): Promise<number> {
  return (await fileIdentity(path, name)).size;
}

async function readInput(input: VaultInput): Promise<Buffer> {
  if (!('path' in input)) return input.data;
  try {
    return await fsp.readFile(input.path);
  } catch (e) {
    throw readError(inputName(input), e);
  }
}

/** Reads the first bytes only (enough for the header) to classify a big file cheaply. */
async function readHead(path: string, name = path, bytes = 4096): Promise<Buffer> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(path, 'r');
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } catch (e) {
    throw readError(name, e);
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

function headerLine(head: Buffer): Buffer {
  const nl = head.indexOf(0x0a);
  return nl === -1 ? head : head.subarray(0, nl);
}

function headerLineIsVault(head: Buffer): boolean {
  return isEncryptedVault(headerLine(head));
}

function notEncrypted(name: string): VaultsmithError {
  // Ansible: "input is not vault encrypted data. <file> is not a vault encrypted file for <file>".
  return new VaultsmithError('NOT_ENCRYPTED', `input is not vault encrypted data. ${name} is not a vault encrypted file`);
}

function alreadyEncrypted(name: string): VaultsmithError {
  return new VaultsmithError('ALREADY_ENCRYPTED', `input is already encrypted: ${name}`, {
    hint: 'use rekey to change its password, or decrypt it first',
  });
}

/** A prepared result: bytes to write, or a deferred streaming job for big files. */
type Prepared =
  | { input: VaultInput; data: Buffer; header?: VaultHeader; secret?: VaultSecret }
  | { input: { path: string }; stream: true; header?: VaultHeader };

async function mapAll<T, R>(items: T[], fn: (item: T) => Promise<R>, options: FileOptions, name: (t: T) => string): Promise<R[]> {
  let done = 0;
  return Promise.all(
    items.map(async (item) => {
      const r = await fn(item);
      done += 1;
      options.onProgress?.(done, items.length, name(item));
      return r;
    }),
  );
}

function writeToStream(stream: Writable, data: Buffer): Promise<void> {
  return new Promise<void>((resolve, reject) => stream.write(data, (e) => (e ? reject(e) : resolve())));
}

function targetPath(target: VaultOutput, input: VaultInput): string {
  const path = target.kind === 'file' ? target.path : 'path' in input ? input.path : null;
  if (path === null) throw new VaultsmithError('INTERNAL', 'no output for stdin input');
  return path;
}

/**
 * How a replaced file's mode is chosen. Ciphertext keeps the target's mode (a vault may stay
 * group-readable); plaintext is always 0600, as ansible-vault's decrypt writes it, so decrypting a
 * 0644 vault never leaves a world-readable plaintext. The owner is kept in both cases.
 */
type ModePolicy = 'keep' | 'private';

/** A finished output in a 0600 temp file next to its target, waiting to be renamed over it. */
interface StagedOutput {
  tmp: string;
  target: string;
}

/**
 * Writes one output into a fresh temp file in the target's directory (`produce` creates it 0600,
 * atomically), then gives it the owner (and with 'keep' the mode) of the file it will replace.
 */
async function stageOutput(target: string, policy: ModePolicy, produce: (tmpPath: string) => Promise<void>): Promise<StagedOutput> {
  let existing: import('node:fs').Stats | undefined;
  try {
    existing = await fsp.stat(target);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError('cannot stat', target, e);
  }
  if (existing && !existing.isFile()) throw new VaultsmithError('IO', `${target} is not a regular file`);
  const tmp = join(dirname(target), `.${basename(target)}.vs-${randomBytes(6).toString('hex')}.staged`);
  liveTemps.add(tmp);
  try {
    await produce(tmp);
    if (existing) {
      if (process.getuid?.() === 0 || existing.uid === process.getuid?.()) {
        await fsp.chown(tmp, existing.uid, existing.gid).catch(() => undefined);
      }
      // After chown, which may clear set-id bits.
      if (policy === 'keep') await fsp.chmod(tmp, existing.mode & 0o7777);
    }
  } catch (e) {
    await fsp.unlink(tmp).catch(() => undefined);
    liveTemps.delete(tmp);
    // Writers name the file they failed on: the user knows the target, not our temp name.
    if (e instanceof VaultsmithError && !(e.code === 'IO' && e.message.includes(tmp))) throw e;
    throw ioError('cannot write', target, e instanceof VaultsmithError ? (e.cause ?? e) : e);
  }
  return { tmp, target };
}

async function discardStaged(staged: StagedOutput[]): Promise<void> {
  await Promise.all(staged.map((s) => fsp.unlink(s.tmp).catch(() => undefined)));
  for (const s of staged) liveTemps.delete(s.tmp);
}

/**
 * Staged files not yet renamed or removed. They may hold plaintext (decrypt), so a signal that ends
 * the process first removes them (and the writers' own temp files beside them), synchronously.
 */
const liveTemps = new Set<string>();
const CLEANUP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function removeLiveTempsSync(): void {
  for (const tmp of liveTemps) {
    const prefix = `.${basename(tmp)}.vs-`;
    try {
      for (const name of readdirSync(dirname(tmp))) if (name.startsWith(prefix)) rmSync(join(dirname(tmp), name), { force: true });
    } catch {
      // best effort: the directory may be gone
    }
    rmSync(tmp, { force: true });
  }
  liveTemps.clear();
  releaseHeldLocksSync();
}

/** Installs the cleanup handlers while `fn` runs; after cleaning, the signal takes its default course. */
async function withTempCleanupOnSignal<T>(fn: () => Promise<T>): Promise<T> {
  const handlers = CLEANUP_SIGNALS.map((signal) => {
    const handler = () => {
      removeLiveTempsSync();
      for (const [sig, h] of handlers) process.off(sig, h);
      // Nobody else handles it: let it end the process as it would have (exit status 128+n).
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    return [signal, handler] as const;
  });
  for (const [signal, handler] of handlers) process.on(signal, handler);
  try {
    return await fn();
  } finally {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  }
}

/** Renames every staged output over its target, then fsyncs each directory once (staged-write's commit). */
async function commitStaged(staged: StagedOutput[]): Promise<void> {
  try {
    await commitStagedFiles(staged);
  } finally {
    // Renamed or, after a failed rename, removed: no longer for the signal handler to clean.
    for (const s of staged) liveTemps.delete(s.tmp);
  }
}

/**
 * Writes every result of a batch so that a failure leaves every file as it was: stream outputs
 * (stdout) are written in order, file outputs first go to staged temp files (big files are
 * streamed there, which is where a wrong password of a big file shows up), and only when all of
 * them are complete are they renamed over their targets.
 */
async function writeBatch(jobs: { write?: () => Promise<void>; stage?: () => Promise<StagedOutput> }[]): Promise<void> {
  if (!jobs.some((job) => job.stage)) {
    for (const job of jobs) await job.write?.();
    return;
  }
  await withTempCleanupOnSignal(async () => {
    const staged: StagedOutput[] = [];
    try {
      for (const job of jobs) {
        if (job.write) await job.write();
        else if (job.stage) staged.push(await job.stage());
      }
    } catch (e) {
      await discardStaged(staged);
      throw e;
    }
    await commitStaged(staged);
  });
}

function outputFor(target: VaultOutput, input: VaultInput, streamIfNoPath: Writable): VaultOutput {
  if (target.kind === 'in-place' && (!('path' in input) || input.spooled)) return { kind: 'stream', stream: streamIfNoPath };
  return target;
}

/**
 * Files a batch rewrites (in place, or its --output file): locked for the whole command as `edit`,
 * `set` and rotation lock them, so a rekey can never silently undo a concurrent change, nor be undone.
 */
function rewrittenPaths(inputs: VaultInput[], output: VaultOutput): string[] {
  if (output.kind === 'file') return [output.path];
  if (output.kind === 'in-place') return inputs.flatMap((input) => ('path' in input && !input.spooled ? [input.path] : []));
  return [];
}

export interface EncryptFilesRequest {
  inputs: VaultInput[];
  secret: VaultSecret;
  label: string | null;
  output: VaultOutput;
  /** Where stdin input goes when there is no --output (stdout). */
  stdout: Writable;
}

/** `encrypt`: refuses input that already is a vault; writes new files 0600, keeps an existing file's mode. */
export function encryptFiles(request: EncryptFilesRequest, options: FileOptions = {}): Promise<{ files: string[] }> {
  return withFileLocks(rewrittenPaths(request.inputs, request.output), () => encryptFilesLocked(request, options));
}

async function encryptFilesLocked(request: EncryptFilesRequest, options: FileOptions): Promise<{ files: string[] }> {
  const prepared = await mapAll(
    request.inputs,
    async (input): Promise<Prepared> => {
      const name = inputName(input);
      if ('path' in input && (await fileSize(input.path, name)) >= STREAM_THRESHOLD_BYTES) {
        if (headerLineIsVault(await readHead(input.path, name))) throw alreadyEncrypted(name);
        return { input, stream: true };
      }
      const plaintext = await readInput(input);
      if (isEncryptedVault(plaintext)) throw alreadyEncrypted(name);
      return { input, data: await encryptVaultBytes(plaintext, request.secret, { label: request.label }) };
    },
    options,
    inputName,
  );
  const labelOption = { label: request.label };
  await writeBatch(
    prepared.map((p) => {
      const target = outputFor(request.output, p.input, request.stdout);
      if (target.kind === 'stream') {
        return { write: () => ('stream' in p ? encryptVaultStream(p.input.path, target.stream, request.secret, labelOption) : writeToStream(target.stream, p.data)) };
      }
      return {
        stage: () =>
          stageOutput(targetPath(target, p.input), 'keep', (tmp) =>
            'stream' in p ? encryptVaultFile(p.input.path, tmp, request.secret, labelOption) : safeWrite(tmp, p.data, { exclusive: true }),
          ),
      };
    }),
  );
  return { files: request.inputs.map(inputName) };
}

/** Format errors name the file, as the core does inside decryptVault. */
export function parseEnvelopeNamed(vaultText: Buffer, name: string): ReturnType<typeof parseVaultEnvelope> {
  try {
    return parseVaultEnvelope(vaultText, name);
  } catch (e) {
    if (e instanceof VaultsmithError && e.code === 'VAULT_FORMAT' && !e.message.startsWith(`${name}: `)) {
      throw new VaultsmithError('VAULT_FORMAT', `${name}: ${e.message}`, { cause: e, ...(e.hint ? { hint: e.hint } : {}) });
    }
    throw e;
  }
}

async function decryptOne(input: VaultInput, secrets: VaultSecret[], options: FileOptions) {
  const name = inputName(input);
  const vaultText = await readInput(input);
  if (!isEncryptedVault(vaultText)) throw notEncrypted(name);
  const envelope = parseEnvelopeNamed(vaultText, name);
  const candidates = options.filterSecrets ? options.filterSecrets(secrets, envelope.header) : secrets;
  return decryptEnvelope(envelope, candidates, { source: name });
}

export interface DecryptFilesRequest {
  inputs: VaultInput[];
  secrets: VaultSecret[];
  output: VaultOutput;
  stdout: Writable;
}

/** `decrypt`: every file is decrypted (HMAC checked) before any is written. */
export function decryptFiles(request: DecryptFilesRequest, options: FileOptions = {}): Promise<{ files: { name: string; label: string | null; usedLabel: string }[] }> {
  return withFileLocks(rewrittenPaths(request.inputs, request.output), () => decryptFilesLocked(request, options));
}

async function decryptFilesLocked(request: DecryptFilesRequest, options: FileOptions): Promise<{ files: { name: string; label: string | null; usedLabel: string }[] }> {
  const prepared = await mapAll(
    request.inputs,
    async (input): Promise<Prepared> => {
      const name = inputName(input);
      if ('path' in input && (await fileSize(input.path, name)) >= STREAM_THRESHOLD_BYTES) {
        const head = await readHead(input.path, name);
        if (!headerLineIsVault(head)) throw notEncrypted(name);
        const header = parseVaultHeader(headerLine(head).toString('latin1'));
        return { input, stream: true, header };
      }
      const { plaintext, header, secret } = await decryptOne(input, request.secrets, options);
      options.inspectPlaintext?.(plaintext);
      return { input, data: plaintext, header, secret };
    },
    options,
    inputName,
  );
  const files: { name: string; label: string | null; usedLabel: string }[] = [];
  await writeBatch(
    prepared.map((p) => {
      const target = outputFor(request.output, p.input, request.stdout);
      const name = inputName(p.input);
      if (!('stream' in p)) {
        files.push({ name, label: p.header?.label ?? null, usedLabel: p.secret?.label ?? '' });
        if (target.kind === 'stream') return { write: () => writeToStream(target.stream, p.data) };
        return { stage: () => stageOutput(targetPath(target, p.input), 'private', (tmp) => safeWrite(tmp, p.data, { exclusive: true })) };
      }
      // A big file: its HMAC is checked by the streaming decrypt before any plaintext is written.
      const filtered = p.header && options.filterSecrets ? options.filterSecrets(request.secrets, p.header) : request.secrets;
      const record = (r: { header: VaultHeader; secret: VaultSecret }): void => {
        files.push({ name, label: r.header.label, usedLabel: r.secret.label });
      };
      if (target.kind === 'stream') {
        return { write: async () => record(await decryptVaultStream(p.input.path, target.stream, filtered, { source: name })) };
      }
      return {
        stage: () =>
          stageOutput(targetPath(target, p.input), 'private', async (tmp) => record(await decryptVaultFile(p.input.path, tmp, filtered, { source: name }))),
      };
    }),
  );
  return { files };
}

/** One file for `view`: its plaintext, or (big vaults) a job that streams it with bounded memory. */
export type ViewedFile =
  | {
      name: string;
      /** The decrypted content, or the YAML with its inline `!vault` values decrypted. */
      plaintext: Buffer;
      inline: boolean;
    }
  | {
      name: string;
      inline: false;
      /** Checks that a secret opens it (the HMAC pass only): lets the caller audit before revealing. */
      verify: () => Promise<void>;
      /** Decrypts into `output`; the HMAC is verified before the first byte is written. */
      streamTo: (output: Writable) => Promise<void>;
    };

/** Stops a streaming decrypt at its first plaintext byte: by then the HMAC pass has succeeded. */
class HmacVerified extends Error {}

async function verifyVaultStream(path: string, secrets: VaultSecret[], name: string): Promise<void> {
  // highWaterMark 0: the first write waits for its callback, which fails with the stop signal.
  const stop = new Writable({ highWaterMark: 0, write: (_chunk, _encoding, done) => done(new HmacVerified()) });
  try {
    await decryptVaultStream(path, stop, secrets, { source: name });
  } catch (e) {
    if (!(e instanceof HmacVerified)) throw e;
  } finally {
    stop.destroy();
  }
}

/** Errors from a YAML file's inline values name the file too ("on vars.yml (value of db.password)"). */
function inlineErrorNamed(e: unknown, name: string): unknown {
  if (e instanceof DecryptionFailedError) {
    return new DecryptionFailedError(e.triedLabels, e.fileLabel, e.source ? `${name} (${e.source})` : name, { cause: e });
  }
  if (e instanceof VaultsmithError && !e.message.startsWith(`${name}: `)) {
    return new VaultsmithError(e.code, `${name}: ${e.message.replace(/:$/, '')}`, { cause: e, ...(e.hint ? { hint: e.hint } : {}) });
  }
  return e;
}

/** Heuristic: plaintext YAML holding inline `!vault` values (which Ansible's view cannot show). */
export function hasInlineVaultValues(data: Buffer): boolean {
  return /!vault\s*[|>]/.test(data.toString('utf8'));
}

/**
 * `view`: decrypts every file (in parallel); YAML with inline `!vault` values is shown decrypted.
 * Vaults of STREAM_THRESHOLD_BYTES or more are not loaded: the caller streams them in turn.
 */
export async function viewFiles(inputs: VaultInput[], secrets: VaultSecret[], options: FileOptions = {}): Promise<ViewedFile[]> {
  return mapAll(
    inputs,
    async (input): Promise<ViewedFile> => {
      const name = inputName(input);
      if ('path' in input && (await fileSize(input.path, name)) >= STREAM_THRESHOLD_BYTES) {
        const head = await readHead(input.path, name);
        if (headerLineIsVault(head)) {
          const header = parseVaultHeader(headerLine(head).toString('latin1'));
          const candidates = options.filterSecrets ? options.filterSecrets(secrets, header) : secrets;
          return {
            name,
            inline: false,
            verify: () => verifyVaultStream(input.path, candidates, name),
            streamTo: async (output) => {
              await decryptVaultStream(input.path, output, candidates, { source: name });
            },
          };
        }
      }
      const data = await readInput(input);
      if (!isEncryptedVault(data) && hasInlineVaultValues(data)) {
        const { decryptInlineYaml } = await import('../vault/inline.js');
        const yaml = await decryptInlineYaml(data.toString('utf8'), secrets).catch((e: unknown) => {
          throw inlineErrorNamed(e, name);
        });
        options.inspectPlaintext?.(data);
        return { name, plaintext: Buffer.from(yaml, 'utf8'), inline: true };
      }
      const { plaintext } = await decryptOne({ name, data }, secrets, options);
      options.inspectPlaintext?.(plaintext);
      return { name, plaintext, inline: false };
    },
    options,
    inputName,
  );
}

/** What tells a rewritten file apart cheaply: a replaced file has a new inode, an edited one a new size or mtime. */
interface FileIdentity {
  ino: number;
  size: number;
  mtimeNs: bigint;
}

async function fileIdentity(path: string, name = path): Promise<FileIdentity> {
  let st: import('node:fs').BigIntStats;
  try {
    st = await fsp.stat(path, { bigint: true });
    if (st.isDirectory()) throw Object.assign(new Error('EISDIR'), { code: 'EISDIR' });
  } catch (e) {
    throw readError(name, e);
  }
  return { ino: Number(st.ino), size: Number(st.size), mtimeNs: st.mtimeNs };
}

function sameFile(a: FileIdentity, b: FileIdentity | null): boolean {
  return b !== null && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs;
}

export interface RekeyFilesRequest {
  paths: string[];
  secrets: VaultSecret[];
  newSecret: VaultSecret;
  newLabel: string | null;
}

/**
 * `rekey`: every file is decrypted, re-encrypted and staged (fsynced temp file with the file's mode
 * and owner) in parallel, so the writes overlap the key derivations of other files; only when all
 * are staged are they renamed over the originals (one directory fsync each). One bad file leaves
 * every file untouched. Big files are re-encrypted as a stream (rekeyVaultFile): memory stays
 * bounded and their plaintext never leaves memory.
 */
export async function rekeyFiles(request: RekeyFilesRequest, options: FileOptions = {}): Promise<{ files: { name: string; oldLabel: string | null }[] }> {
  return withFileLocks(request.paths, () => withTempCleanupOnSignal(async () => {
    let done = 0;
    const results = await Promise.allSettled(
      request.paths.map(async (path) => {
        let prepared: { staged: StagedOutput; oldLabel: string | null; seen: FileIdentity };
        const seen = await fileIdentity(path);
        if (seen.size >= STREAM_THRESHOLD_BYTES) {
          const head = await readHead(path);
          if (!headerLineIsVault(head)) throw notEncrypted(path);
          const header = parseVaultHeader(headerLine(head).toString('latin1'));
          const secrets = options.filterSecrets ? options.filterSecrets(request.secrets, header) : request.secrets;
          const staged = await stageOutput(path, 'keep', async (tmp) => {
            await rekeyVaultFile(path, tmp, secrets, request.newSecret, { label: request.newLabel, source: path });
          });
          prepared = { staged, oldLabel: header.label, seen };
        } else {
          const { plaintext, header } = await decryptOne({ path }, request.secrets, options);
          options.inspectPlaintext?.(plaintext);
          let vaultText: Buffer;
          try {
            vaultText = await encryptVaultBytes(plaintext, request.newSecret, { label: request.newLabel });
          } finally {
            plaintext.fill(0);
          }
          prepared = { staged: await stageFile(path, vaultText, { onTemp: (tmp) => liveTemps.add(tmp) }), oldLabel: header.label, seen };
        }
        done += 1;
        options.onProgress?.(done, request.paths.length, path);
        return prepared;
      }),
    );
    const prepared = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) {
      await discardStaged(prepared.map((p) => p.staged));
      throw failure.reason;
    }
    // Our locks keep vaultsmith out, not ansible-vault or an editor: a file rewritten since it was
    // read would lose that change to the rekey, so then nothing is replaced.
    for (const p of prepared) {
      if (!sameFile(p.seen, await fileIdentity(p.staged.target).catch(() => null))) {
        await discardStaged(prepared.map((q) => q.staged));
        throw new VaultsmithError('CONFLICT', `${p.staged.target} was changed by another program during the rekey; no file was changed`, {
          hint: 'run the command again',
        });
      }
    }
    await commitStaged(prepared.map((p) => p.staged));
    return { files: prepared.map((p) => ({ name: p.staged.target, oldLabel: p.oldLabel })) };
  }));
}
