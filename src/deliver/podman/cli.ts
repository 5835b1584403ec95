import { spawn } from 'node:child_process';
import { VaultsmithError } from '../../errors.js';
import type { CreateSecretOptions, ExistingPodmanSecret, PodmanSecretBackend } from './types.js';

export interface PodmanCliOptions {
  /** Environment of the `podman` processes (PATH lookup, CONTAINERS_STORAGE_CONF, CONTAINER_HOST, XDG_*). */
  env: NodeJS.ProcessEnv;
  /** The podman executable (default `podman`, looked up on env.PATH). */
  podmanPath?: string;
  /** A `podman system connection` name, passed as `--connection`. */
  connection?: string;
  /** Kill a podman call that takes longer than this (default 120 s). */
  timeoutMs?: number;
}

interface PodmanRun {
  code: number;
  stdout: string;
  stderr: string;
}

function notFound(podmanPath: string): VaultsmithError {
  return new VaultsmithError('EXTERNAL', `podman was not found (looked for '${podmanPath}' on PATH)`, {
    hint: 'install podman, or talk to a Podman service with --url unix:///path/podman.sock',
  });
}

/** Podman prints `Error: <reason>`; keep the reason's last line. */
function podmanReason(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  return (lines.at(-1) ?? 'no error message').replace(/^Error:\s*/, '');
}

/**
 * Talks to Podman through its CLI. Secret data only ever goes to the child's stdin (`podman secret
 * create NAME -`): argv holds names and labels, and the child's environment is the caller's own.
 */
export class PodmanCliBackend implements PodmanSecretBackend {
  readonly description: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly podmanPath: string;
  private readonly globalArgs: string[];
  private readonly timeoutMs: number;
  private replaceSupport: Promise<boolean> | undefined;

  constructor(options: PodmanCliOptions) {
    this.env = options.env;
    this.podmanPath = options.podmanPath ?? 'podman';
    this.globalArgs = options.connection ? ['--connection', options.connection] : [];
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.description = options.connection ? `podman CLI (connection ${options.connection})` : 'podman CLI';
  }

  private run(args: string[], stdinData?: Uint8Array): Promise<PodmanRun> {
    const argv = [...this.globalArgs, ...args];
    // `podman secret create NAME -` insists that stdin is a FIFO, but Node gives children a socket
    // pair; a `cat |` pipeline in sh hands podman a real pipe. The data still flows only on stdin.
    const [file, fileArgs] =
      stdinData === undefined ? [this.podmanPath, argv] : ['sh', ['-c', 'cat | "$0" "$@"', this.podmanPath, ...argv]];
    return new Promise((resolve, reject) => {
      const child = spawn(file, fileArgs, { env: this.env, stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      const timer = setTimeout(() => child.kill('SIGKILL'), this.timeoutMs);
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      // podman may exit before reading stdin (bad flag, injected failure): EPIPE is not our error.
      child.stdin.on('error', () => undefined);
      child.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(
          e.code === 'ENOENT'
            ? notFound(this.podmanPath)
            : new VaultsmithError('EXTERNAL', `cannot run podman: ${e.message}`, { cause: e }),
        );
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const stderr = Buffer.concat(err).toString('utf8');
        if (signal) {
          resolve({ code: 128, stdout: '', stderr: `Error: podman was killed by ${signal}` });
          return;
        }
        if (stdinData !== undefined && code === 127) {
          reject(notFound(this.podmanPath));
          return;
        }
        resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString('utf8'), stderr });
      });
      child.stdin.end(stdinData === undefined ? undefined : Buffer.from(stdinData));
    });
  }

  private async runOk(what: string, args: string[], stdinData?: Uint8Array): Promise<string> {
    const result = await this.run(args, stdinData);
    if (result.code !== 0) {
      throw new VaultsmithError('EXTERNAL', `${what} failed (exit ${result.code}): ${podmanReason(result.stderr)}`);
    }
    return result.stdout;
  }

  supportsReplace(): Promise<boolean> {
    // `--replace` arrived in Podman 4.7; ask the installed binary instead of parsing versions.
    this.replaceSupport ??= this.run(['secret', 'create', '--help']).then(
      (r) => r.code === 0 && /--replace\b/.test(r.stdout),
      () => false,
    );
    return this.replaceSupport;
  }

  async list(): Promise<ExistingPodmanSecret[]> {
    const names = (await this.runOk('podman secret ls', ['secret', 'ls', '--noheading', '--format', '{{.Name}}']))
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    if (names.length === 0) return [];
    // `secret ls` does not show labels on 4.3, so inspect them all in one call.
    const json = await this.runOk('podman secret inspect', ['secret', 'inspect', ...names]);
    return parseInspectOutput(json);
  }

  async create(name: string, data: Uint8Array, labels: Record<string, string>, options: CreateSecretOptions = {}): Promise<void> {
    const labelArgs = Object.entries(labels).flatMap(([key, value]) => ['--label', `${key}=${value}`]);
    const replaceArgs = options.replace ? ['--replace'] : [];
    await this.runOk(`podman secret create ${name}`, ['secret', 'create', ...replaceArgs, ...labelArgs, name, '-'], data);
  }

  async remove(name: string): Promise<void> {
    await this.runOk(`podman secret rm ${name}`, ['secret', 'rm', name]);
  }
}

interface InspectEntry {
  ID?: string;
  Spec?: { Name?: string; Labels?: Record<string, string> | null };
}

/** Parses `podman secret inspect` / libpod inspect JSON into metadata. */
export function parseInspectOutput(json: string | InspectEntry[] | InspectEntry): ExistingPodmanSecret[] {
  let parsed: unknown;
  try {
    parsed = typeof json === 'string' ? JSON.parse(json) : json;
  } catch (e) {
    throw new VaultsmithError('EXTERNAL', 'podman secret inspect printed something that is not JSON', { cause: e });
  }
  const entries = (Array.isArray(parsed) ? parsed : [parsed]) as InspectEntry[];
  return entries.map((entry) => {
    const name = entry.Spec?.Name;
    if (typeof name !== 'string' || typeof entry.ID !== 'string') {
      throw new VaultsmithError('EXTERNAL', 'unexpected podman secret inspect output (no ID or Spec.Name)');
    }
    return { id: entry.ID, name, labels: { ...(entry.Spec?.Labels ?? {}) } };
  });
}
