import { resolve } from 'node:path';
import { VaultsmithError } from '../../errors.js';
import { createVaultFile } from '../../services/vault-edit.js';
import { wipeSecrets } from '../../secrets/index.js';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../context.js';
import {
  ENCRYPT_VAULT_ID_OPTION,
  VAULT_ENV_HELP,
  VAULT_OPTIONS,
  VAULT_OPTIONS_HELP,
  checkVaultOptions,
  labelForSecret,
  secretForEncrypting,
} from '../vault-options.js';

const help = `Usage: vaultsmith create [options] FILE

Creates a new vault file by opening an empty private temp file in $EDITOR (default vi) and
encrypting what you save (like ansible-vault create). An existing FILE is refused; a missing
directory is created. The file appears (mode 0600) only after the editor exits successfully.

Options:
  --encrypt-vault-id LABEL     the vault id to encrypt with (required if several are given)
${VAULT_OPTIONS_HELP}

${VAULT_ENV_HELP}

Examples:
  vaultsmith create group_vars/prod/vault.yml --vault-id prod@~/.vault_pass_prod
  vaultsmith create secrets.yml --vault-id @prompt
`;

export const createCommand: Command = {
  name: 'create',
  summary: 'create a new vault file in $EDITOR (ansible-vault create)',
  help,
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs('create', args, { ...VAULT_OPTIONS, ...ENCRYPT_VAULT_ID_OPTION });
    checkVaultOptions('create', values);
    if (positionals.length !== 1) {
      throw new VaultsmithError('USAGE', 'create can take only one filename argument', { hint: "see 'vaultsmith create --help'" });
    }
    const secret = await secretForEncrypting(values, ctx);
    try {
      const path = resolve(ctx.cwd, positionals[0]!);
      await createVaultFile(
        { path, secret, label: labelForSecret(secret) },
        { ...ctx, warn: (message) => ctx.stderr.write(`[WARNING]: ${message}\n`) },
      );
      return 0;
    } finally {
      wipeSecrets([secret]);
    }
  },
};
