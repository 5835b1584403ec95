import { VaultsmithError } from '../../errors.js';
import { readAll, secretsForVaultLabel, wipeSecrets } from '../../secrets/index.js';
import { decryptVault, extractVaultText, parseVaultEnvelope } from '../../vault/index.js';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../context.js';
import { write } from '../output.js';
import {
  VAULT_ENV_HELP,
  VAULT_OPTIONS,
  VAULT_OPTIONS_HELP,
  checkVaultOptions,
  secretsForReading,
  vaultSettings,
  withVaultAudit,
} from '../vault-options.js';
import type { VaultSecret } from '../../vault/types.js';

const help = `Usage: vaultsmith decrypt-string [options] [TEXT]

Prints the plaintext of one inline vault value: a '!vault |' block (with or without its
'name:' key) or bare vault text, given as the argument or on stdin ('-' or no argument). The
plaintext is printed as is; a newline is added only on a terminal.

Options:
${VAULT_OPTIONS_HELP}

${VAULT_ENV_HELP}

Examples:
  yq '.db_password' vars.yml | vaultsmith decrypt-string --vault-id prod@prod.pass
  vaultsmith decrypt-string --vault-password-file ~/.vault_pass < pasted-block.txt
`;

export const decryptStringCommand: Command = {
  name: 'decrypt-string',
  aliases: ['decrypt_string'],
  summary: "print the plaintext of a '!vault |' value or bare vault text",
  help,
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs('decrypt-string', args, VAULT_OPTIONS);
    checkVaultOptions('decrypt-string', values);
    if (positionals.length > 1) {
      throw new VaultsmithError('USAGE', 'decrypt-string takes one vault value', { hint: 'decrypt several values with view on the YAML file' });
    }
    let secrets: VaultSecret[] = [];
    try {
      const plaintext = await withVaultAudit(ctx, 'decrypt-string', [], async (note) => {
        secrets = await secretsForReading(values, ctx);
        note.secrets(secrets);
        const arg = positionals[0];
        const input = arg === undefined || arg === '-' ? (await readAll(ctx.stdin)).toString('utf8') : arg;
        if (input.trim() === '') throw new VaultsmithError('INPUT', 'no vault text given (stdin was empty)');
        // A pasted `name: !vault |` block names its variable: that name (never the value) is audited.
        const named = /^\s*([A-Za-z_][\w.-]*)\s*:\s*!vault\b/m.exec(input);
        if (named) note.plaintext(Buffer.from(`${named[1]}: ~\n`));
        const vaultText = extractVaultText(input);
        const { header } = parseVaultEnvelope(vaultText, 'the vault value');
        const result = await decryptVault(vaultText, secretsForVaultLabel(secrets, header.label, vaultSettings(ctx)), {
          source: arg === undefined || arg === '-' ? 'stdin' : 'the argument',
        });
        return result.plaintext;
      });
      await write(ctx.stdout, plaintext);
      if (ctx.stdout.isTTY && plaintext[plaintext.length - 1] !== 0x0a) await write(ctx.stdout, '\n');
      return 0;
    } finally {
      wipeSecrets(secrets);
    }
  },
};
