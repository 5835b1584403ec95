import { editVaultFile } from '../../services/vault-edit.js';
import { wipeSecrets } from '../../secrets/index.js';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../context.js';
import {
  ENCRYPT_VAULT_ID_OPTION,
  VAULT_ENV_HELP,
  VAULT_OPTIONS,
  VAULT_OPTIONS_HELP,
  checkVaultOptions,
  headerSecretFilter,
  resolveTarget,
  secretsForReading,
  vaultSettings,
  withVaultAudit,
} from '../vault-options.js';
import type { VaultSecret } from '../../vault/types.js';

const help = `Usage: vaultsmith edit [options] FILE ...

Opens a decrypted copy of each vault file in $EDITOR (split like a shell command line; default vi)
and re-encrypts it when the editor exits successfully and the content changed (like ansible-vault
edit). The file keeps its vault id label, mode and owner.

Safety: the plaintext copy is a 0600 file in a private 0700 directory on tmpfs (/dev/shm), zeroed
and removed afterwards, also on Ctrl-C or SIGTERM. An editor that fails leaves the vault unchanged.
The file is locked (FILE.vaultsmith-lock) during the edit; if it changes on disk meanwhile (e.g. by
ansible-vault), it is not overwritten: your edit is saved encrypted as FILE.vaultsmith-conflict-TIME.

Options:
  --encrypt-vault-id LABEL     accepted for ansible-vault compatibility and ignored, as there:
                               the file is re-encrypted with the vault id that opened it
${VAULT_OPTIONS_HELP}

${VAULT_ENV_HELP}

Examples:
  vaultsmith edit group_vars/prod/vault.yml --vault-id prod@~/.vault_pass_prod
  EDITOR="code --wait" vaultsmith edit vault.yml --vault-password-file ~/.vault_pass
`;

export const editCommand: Command = {
  name: 'edit',
  summary: 'edit a vault file in $EDITOR through a private temp file (ansible-vault edit)',
  help,
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs('edit', args, { ...VAULT_OPTIONS, ...ENCRYPT_VAULT_ID_OPTION });
    checkVaultOptions('edit', values);
    let secrets: VaultSecret[] = [];
    try {
      await withVaultAudit(ctx, 'edit', positionals, async (note) => {
        secrets = await secretsForReading(values, ctx);
        note.secrets(secrets);
        // One file at a time, in order, as ansible-vault: each opens its own editor session.
        for (const file of positionals) {
          const path = await resolveTarget(ctx, file);
          await editVaultFile({ path, secrets, filterSecrets: headerSecretFilter(vaultSettings(ctx)), inspectPlaintext: note.plaintext }, ctx);
        }
      });
      return 0;
    } finally {
      wipeSecrets(secrets);
    }
  },
};
