import { VaultsmithError } from '../../errors.js';
import { decryptFiles } from '../../services/vault-files.js';
import { wipeSecrets } from '../../secrets/index.js';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../context.js';
import { write } from '../output.js';
import {
  OUTPUT_OPTION,
  VAULT_ENV_HELP,
  VAULT_OPTIONS,
  VAULT_OPTIONS_HELP,
  checkVaultOptions,
  headerSecretFilter,
  outputTarget,
  progressReporter,
  reportSuccess,
  secretsForReading,
  vaultSettings,
  withVaultAudit,
} from '../vault-options.js';
import type { VaultSecret } from '../../vault/types.js';
import { readVaultTextInputs } from './encrypt.js';

const help = `Usage: vaultsmith decrypt [options] [FILE ...]

Decrypts vault files in place (like ansible-vault decrypt). '-' or no FILE reads stdin and writes
stdout. Secrets whose vault id matches the file's label are tried first. With several files every
file is decrypted and checked before any is written. Plaintext files are written 0600 (as
ansible-vault writes them), whatever the vault's mode was; the owner is kept. Files rewritten in
place (or --output) are locked (FILE.vaultsmith-lock) like edit and set lock them; a locked file
fails at once with exit 5.

Options:
  --output FILE                write the plaintext to FILE ('-' for stdout); one input only
${VAULT_OPTIONS_HELP}

${VAULT_ENV_HELP}

Examples:
  vaultsmith decrypt group_vars/prod/vault.yml --vault-id prod@~/.vault_pass_prod
  vaultsmith decrypt vault.yml --output - --vault-password-file ~/.vault_pass | grep db_
  vaultsmith decrypt a.yml b.yml --vault-id dev@dev.pass --vault-id prod@prod.pass
`;

export const decryptCommand: Command = {
  name: 'decrypt',
  summary: 'decrypt vault files (ansible-vault decrypt)',
  help,
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs('decrypt', args, { ...VAULT_OPTIONS, ...OUTPUT_OPTION });
    checkVaultOptions('decrypt', values);
    if (values.output !== undefined && positionals.length > 1) {
      throw new VaultsmithError('USAGE', 'At most one input file may be used with the --output option');
    }
    let secrets: VaultSecret[] = [];
    try {
      const files = positionals.length ? positionals : ['-'];
      await withVaultAudit(ctx, 'decrypt', files, async (note) => {
        secrets = await secretsForReading(values, ctx);
        note.secrets(secrets);
        if (!positionals.length && ctx.stdin.isTTY) await write(ctx.stderr, 'Reading ciphertext input from stdin\n');
        const { inputs, close } = await readVaultTextInputs(files, ctx);
        try {
          await decryptFiles(
            { inputs, secrets, output: await outputTarget(ctx, values.output), stdout: ctx.stdout },
            {
              onProgress: progressReporter(ctx, inputs.length),
              filterSecrets: headerSecretFilter(vaultSettings(ctx)),
              inspectPlaintext: note.plaintext,
            },
          );
        } finally {
          await close();
        }
      });
      await reportSuccess(ctx, 'Decryption successful');
      return 0;
    } finally {
      wipeSecrets(secrets);
    }
  },
};
