import type { Readable, Writable } from 'node:stream';

/** Everything a command may touch of the outside world; tests pass their own. */
export interface CliContext {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface Command {
  /** Primary name, e.g. `encrypt_string`. */
  name: string;
  aliases?: string[];
  /** One line for the command list. */
  summary: string;
  /** Full `--help` text including usage, options and examples. */
  help: string;
  /** Runs the command with the arguments after its name; returns the exit code. */
  run(args: string[], ctx: CliContext): Promise<number>;
}
