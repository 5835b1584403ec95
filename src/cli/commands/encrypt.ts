import { VaultsmithError } from '../../errors.js';
import { readAll, wipeSecrets } from '../../secrets/index.js';
import { encryptFiles, spoolVaultText, type VaultInput } from '../../services/vault-files.js';
import { parseCommandArgs } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { write } from '../output.js';
import {
  ENCRYPT_VAULT_ID_OPTION,
  OUTPUT_OPTION,
  VAULT_ENV_HELP,
  VAULT_OPTIONS,
  VAULT_OPTIONS_HELP,
  checkVaultOptions,
  labelForSecret,
  outputTarget,
  progressReporter,
  reportSuccess,
  resolveTarget,
  secretForEncrypting,
} from '../vault-options.js';

const help = `Usage: vaultsmith encrypt [options] [FILE ...]

Encrypts files in place (like ansible-vault encrypt). '-' or no FILE reads stdin and writes stdout.
A file that is already a vault is refused. Files are replaced atomically, keeping mode and owner
(ansible-vault makes them 0600; chmod if you want that); with several files nothing is written
unless every file could be encrypted. Files rewritten in place (or --output) are locked
(FILE.vaultsmith-lock) like edit and set lock them; a locked file fails at once with exit 5.

Options:
  --output FILE                write the result to FILE ('-' for stdout); one input only
  --encrypt-vault-id LABEL     the vault id to encrypt with (required if several are given)
${VAULT_OPTIONS_HELP}

${VAULT_ENV_HELP}

Examples:
  vaultsmith encrypt group_vars/prod/vault.yml --vault-id prod@~/.vault_pass_prod
  vaultsmith encrypt a.yml b.yml --vault-password-file ~/.vault_pass
  cat secrets.yml | vaultsmith encrypt --vault-id @prompt --output secrets.vault
`;

export async function readStdinInputs(args: string[], ctx: CliContext): Promise<VaultInput[]> {
  const inputs: VaultInput[] = [];
  let stdinData: Buffer | undefined;
  for (const arg of args) {
    if (arg === '-') {
      stdinData ??= await readAll(ctx.stdin);
      inputs.push({ name: '-', data: stdinData });
    } else {
      inputs.push({ path: await resolveTarget(ctx, arg), name: arg });
    }
  }
  return inputs;
}

/**
 * readStdinInputs for vault text (decrypt, view): a big vault piped in is spooled to an unlinked
 * temp file and streamed like a file, instead of being held in memory (see spoolVaultText).
 * `close` must be called when the command is done.
 */
export async function readVaultTextInputs(args: string[], ctx: CliContext): Promise<{ inputs: VaultInput[]; close: () => Promise<void> }> {
  const inputs: VaultInput[] = [];
  let stdin: Awaited<ReturnType<typeof spoolVaultText>> | undefined;
  for (const arg of args) {
    if (arg === '-') {
      stdin ??= await spoolVaultText(ctx.stdin, '-');
      inputs.push(stdin.input);
    } else {
      inputs.push({ path: await resolveTarget(ctx, arg), name: arg });
    }
  }
  return { inputs, close: async () => stdin?.close() };
}

export const encryptCommand: Command = {
  name: 'encrypt',
  summary: 'encrypt files with a vault password (ansible-vault encrypt)',
  help,
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs('encrypt', args, {
      ...VAULT_OPTIONS,
      ...ENCRYPT_VAULT_ID_OPTION,
      ...OUTPUT_OPTION,
    });
    checkVaultOptions('encrypt', values);
    if (values.output !== undefined && positionals.length > 1) {
      throw new VaultsmithError('USAGE', 'At most one input file may be used with the --output option');
    }
    const secret = await secretForEncrypting(values, ctx);
    try {
      const files = positionals.length ? positionals : ['-'];
      if (!positionals.length && ctx.stdin.isTTY) await write(ctx.stderr, 'Reading plaintext input from stdin\n');
      const inputs = await readStdinInputs(files, ctx);
      await encryptFiles(
        { inputs, secret, label: labelForSecret(secret), output: await outputTarget(ctx, values.output), stdout: ctx.stdout },
        { onProgress: progressReporter(ctx, inputs.length) },
      );
      await reportSuccess(ctx, 'Encryption successful');
      return 0;
    } finally {
      wipeSecrets([secret]);
    }
  },
};
