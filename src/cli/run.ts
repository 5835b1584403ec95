import { VaultsmithError, isVaultsmithError } from '../errors.js';
import { VERSION } from '../version.js';
import { commands, type CommandEntry } from './commands/index.js';
import type { CliContext, Command } from './context.js';
import { EXIT_CODES } from './errors.js';
import { write } from './output.js';

export type { CliContext, Command } from './context.js';

function findCommand(name: string): CommandEntry | undefined {
  return commands.find((c) => c.name === name || c.aliases?.includes(name));
}

export function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const list = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n');
  return `vaultsmith ${VERSION} — Ansible Vault compatible secrets toolkit

Usage: vaultsmith <command> [options]
       vaultsmith <command> --help

Commands:
${list}

Global options:
  -h, --help     show help
  --version      print the version
  --debug        print stack traces on errors

Environment: NO_COLOR disables colour; ANSIBLE_VAULT_PASSWORD_FILE and
ANSIBLE_VAULT_IDENTITY_LIST are honoured as by ansible-vault.

Examples:
  vaultsmith view group_vars/vault.yml --vault-id prod@~/.vault_pass_production
  vaultsmith gen django-secret-key --format dotenv
  vaultsmith demo
`;
}

const SYSTEM_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EPIPE: 'the reader went away (broken pipe)',
  EIO: 'input/output error',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  ENOTDIR: 'a path component is not a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
};

/** An operating-system error no layer named (a failed write to stdout, say): exit 1 like any I/O error, in words. */
function systemError(e: unknown): VaultsmithError | null {
  const { code, syscall, path } = (e ?? {}) as NodeJS.ErrnoException;
  if (!code || !(code in SYSTEM_ERRORS)) return null;
  const where = path ? ` ${path}` : syscall === 'write' ? ' to the output' : '';
  return new VaultsmithError('IO', `cannot ${syscall ?? 'complete the operation'}${where}: ${SYSTEM_ERRORS[code]}`, { cause: e });
}

/** Formats an error as ansible-vault does (`ERROR! ...`), plus an optional hint line. */
export function formatError(e: VaultsmithError): string {
  const oneLine = e.message.replace(/\s*\n\s*/g, ' ');
  return `ERROR! ${oneLine}\n${e.hint ? `hint: ${e.hint}\n` : ''}`;
}

/**
 * The whole CLI as a function: never calls process.exit, never throws; returns the exit code.
 */
export async function run(argv: string[], ctx: CliContext): Promise<number> {
  const debug = argv.includes('--debug');
  const args = argv.filter((a, i) => !(a === '--debug' && !argv.slice(0, i).includes('--')));
  try {
    const [name, ...rest] = args;
    if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
      if (name === 'help' && rest[0]) {
        const entry = findCommand(rest[0]);
        if (!entry) throw new VaultsmithError('USAGE', `unknown command '${rest[0]}'`);
        await write(ctx.stdout, (await entry.load()).help);
        return 0;
      }
      await write(name === undefined ? ctx.stderr : ctx.stdout, mainHelp());
      return name === undefined ? EXIT_CODES.USAGE : 0;
    }
    if (name === '--version' || name === '-V') {
      await write(ctx.stdout, `vaultsmith ${VERSION}\n`);
      return 0;
    }
    const entry = findCommand(name);
    if (!entry) {
      throw new VaultsmithError('USAGE', `unknown command '${name}'`, { hint: "run 'vaultsmith --help' for the list" });
    }
    const cmd: Command = await entry.load();
    if (rest.includes('-h') || rest.includes('--help')) {
      const dd = rest.indexOf('--');
      const h = rest.findIndex((a) => a === '-h' || a === '--help');
      if (dd === -1 || h < dd) {
        await write(ctx.stdout, cmd.help);
        return 0;
      }
    }
    return await cmd.run(rest, ctx);
  } catch (e) {
    const err = isVaultsmithError(e) ? e : (systemError(e) ?? new VaultsmithError('INTERNAL', `unexpected error: ${e instanceof Error ? e.message : String(e)}`, { cause: e }));
    await write(ctx.stderr, formatError(err)).catch(() => undefined);
    if (debug && e instanceof Error && e.stack) await write(ctx.stderr, `${e.stack}\n`).catch(() => undefined);
    return EXIT_CODES[err.code];
  }
}
