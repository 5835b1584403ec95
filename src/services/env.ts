/**
 * `vaultsmith env` and `vaultsmith exec`: one environment's variable contract, rendered for a file
 * format or handed to a child process. Values go to the child through its environment only.
 */
import { spawn, type StdioOptions } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { VaultsmithError } from '../errors.js';
import { formatAssignment } from '../gen/index.js';
import { openEnvironment, type EnvironmentContext } from '../manifest/environment.js';
import type { LoadedManifest } from '../manifest/loader.js';
import { renderVariables, type ResolvedVariable } from '../manifest/resolve.js';
import { wipeSecrets } from '../secrets/index.js';

export const ENV_FORMATS = ['dotenv', 'json', 'shell', 'systemd'] as const;
export type EnvFormat = (typeof ENV_FORMATS)[number];

export function isEnvFormat(value: string): value is EnvFormat {
  return (ENV_FORMATS as readonly string[]).includes(value);
}

export async function resolveEnvironmentVariables(
  loaded: LoadedManifest,
  envName: string,
  ctx: EnvironmentContext,
  options: { service?: string } = {},
): Promise<ResolvedVariable[]> {
  const opened = await openEnvironment(loaded, envName, ctx);
  wipeSecrets(opened.secrets);
  return renderVariables(loaded, envName, opened.values, options);
}

/**
 * The variables as text: `.env` (single-quoted), POSIX shell (`export NAME='...'`), systemd
 * (`Environment="NAME=..."`, `%` doubled) or a JSON object. `mask` shows `****` for vault-derived
 * parts (REDIS_URL becomes `redis://:****@redis:6379/0`).
 */
export function formatVariables(variables: ResolvedVariable[], format: EnvFormat, options: { mask?: boolean } = {}): string {
  const valueOf = (v: ResolvedVariable) => (options.mask ? v.masked : v.value);
  if (format === 'json') {
    return `${JSON.stringify(Object.fromEntries(variables.map((v) => [v.name, valueOf(v)])), null, 2)}\n`;
  }
  const lines = variables.map((v) => {
    const line = formatAssignment(v.name, valueOf(v), format);
    return format === 'shell' ? `export ${line}` : line;
  });
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** The command could not be started; `exitCode` is what shells report (127 not found, 126 not executable). */
export class ExecStartError extends VaultsmithError {
  constructor(
    message: string,
    readonly exitCode: 126 | 127,
  ) {
    super('EXTERNAL', message);
  }
}

export interface ExecStreams {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/**
 * Runs `command` with the caller's environment plus `variables` (the only place vaultsmith puts
 * secrets into a child's environment — that is exec's purpose; argv never carries them). Streams that
 * are the process's own are inherited; others (tests) are piped. Signals are forwarded; the result is
 * the child's exit code, or 128 + signal number when it was killed by a signal, as shells report it.
 */
export function execWithVariables(
  command: string,
  args: string[],
  variables: ResolvedVariable[],
  baseEnv: NodeJS.ProcessEnv,
  streams: ExecStreams,
  cwd: string,
): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...baseEnv };
  for (const v of variables) env[v.name] = v.value;
  const stdio: StdioOptions = [
    streams.stdin === process.stdin ? 'inherit' : 'pipe',
    streams.stdout === process.stdout ? 'inherit' : 'pipe',
    streams.stderr === process.stderr ? 'inherit' : 'pipe',
  ];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { env, stdio, cwd });
    const forward = (signal: NodeJS.Signals) => () => {
      child.kill(signal);
    };
    const handlers = FORWARDED_SIGNALS.map((s) => [s, forward(s)] as const);
    for (const [s, h] of handlers) process.on(s, h);
    const cleanup = () => {
      for (const [s, h] of handlers) process.off(s, h);
    };
    if (child.stdin) {
      streams.stdin.pipe(child.stdin);
      child.stdin.on('error', () => undefined); // the child may exit without reading its input
    }
    child.stdout?.pipe(streams.stdout as NodeJS.WritableStream, { end: false });
    child.stderr?.pipe(streams.stderr as NodeJS.WritableStream, { end: false });
    child.on('error', (e: NodeJS.ErrnoException) => {
      cleanup();
      const reason = e.code === 'ENOENT' ? 'command not found' : e.code === 'EACCES' ? 'permission denied' : (e.code ?? e.message);
      reject(new ExecStartError(`cannot run ${command}: ${reason}`, e.code === 'ENOENT' ? 127 : 126));
    });
    child.on('close', (code, signal) => {
      cleanup();
      if (streams.stdin !== process.stdin) streams.stdin.unpipe?.(child.stdin ?? undefined);
      if (code !== null) resolvePromise(code);
      else resolvePromise(128 + (signal ? (osConstants.signals[signal] ?? 0) : 0));
    });
  });
}
