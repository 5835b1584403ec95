import { viewFiles } from '../../services/vault-files.js';
import { wipeSecrets } from '../../secrets/index.js';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../context.js';
import { write } from '../output.js';
import {
  VAULT_ENV_HELP,
  VAULT_OPTIONS,
  VAULT_OPTIONS_HELP,
  checkVaultOptions,
  headerSecretFilter,
  progressReporter,
  secretsForReading,
  withVaultAudit,
} from '../vault-options.js';
import type { VaultSecret } from '../../vault/types.js';
import { readStdinInputs } from './encrypt.js';

const help = `Usage: vaultsmith view [options] FILE ...

Prints the decrypted content of vault files (like ansible-vault view, without a pager). A plain
YAML file holding inline '!vault |' values (from encrypt_string) is printed with those values
decrypted and its comments kept, which ansible-vault cannot do. '-' reads stdin.

Options:
${VAULT_OPTIONS_HELP}

${VAULT_ENV_HELP}

Examples:
  vaultsmith view group_vars/prod/vault.yml --vault-id prod@~/.vault_pass_prod
  vaultsmith view group_vars/all/vars.yml --vault-password-file ~/.vault_pass   # inline !vault values
  vaultsmith view host_vars/*/vault.yml --vault-id @prompt
`;

export const viewCommand: Command = {
  name: 'view',
  summary: 'print decrypted vault files, or YAML with inline !vault values decrypted',
  help,
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs('view', args, VAULT_OPTIONS);
    checkVaultOptions('view', values);
    let secrets: VaultSecret[] = [];
    try {
      // The audit event is recorded before anything is revealed.
      const viewed = await withVaultAudit(ctx, 'view', positionals, async (note) => {
        secrets = await secretsForReading(values, ctx);
        note.secrets(secrets);
        const inputs = await readStdinInputs(positionals, ctx);
        return viewFiles(inputs, secrets, {
          onProgress: progressReporter(ctx, inputs.length),
          filterSecrets: headerSecretFilter(ctx.env),
          inspectPlaintext: note.plaintext,
        });
      });
      for (const file of viewed) {
        // Like Ansible's display(): a newline is added only when the text lacks one.
        await write(ctx.stdout, file.plaintext);
        if (file.plaintext.length === 0 || file.plaintext[file.plaintext.length - 1] !== 0x0a) await write(ctx.stdout, '\n');
      }
      return 0;
    } finally {
      wipeSecrets(secrets);
    }
  },
};
