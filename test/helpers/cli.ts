import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { run } from '../../src/cli/run.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
}

let privateXdg: { XDG_STATE_HOME: string; XDG_CONFIG_HOME: string } | null = null;

/**
 * XDG state/config directories for the default environment: the test run's private ones (set by
 * scripts/test.mjs), else a per-process temp directory, so the default audit log and key never land
 * in the real HOME even when one test file is run on its own.
 */
export function testXdgDirs(): { XDG_STATE_HOME: string; XDG_CONFIG_HOME: string } {
  if (process.env.XDG_STATE_HOME && process.env.XDG_CONFIG_HOME) {
    return { XDG_STATE_HOME: process.env.XDG_STATE_HOME, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME };
  }
  if (!privateXdg) {
    const dir = mkdtempSync(join(tmpdir(), 'vs-test-xdg-'));
    privateXdg = { XDG_STATE_HOME: join(dir, 'state'), XDG_CONFIG_HOME: join(dir, 'config') };
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return privateXdg;
}

/** Runs the CLI in-process with captured streams. */
export async function runCli(
  argv: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; stdin?: string | Buffer } = {},
): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (d: Buffer) => out.push(d));
  stderr.on('data', (d: Buffer) => err.push(d));
  const stdin = Readable.from(opts.stdin === undefined ? [] : [Buffer.from(opts.stdin)]);
  const code = await run(argv, {
    stdin,
    stdout,
    stderr,
    env: opts.env ?? { PATH: process.env.PATH, HOME: process.env.HOME, ...testXdgDirs() },
    cwd: opts.cwd ?? process.cwd(),
  });
  const stdoutBytes = Buffer.concat(out);
  return { code, stdout: stdoutBytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), stdoutBytes };
}
