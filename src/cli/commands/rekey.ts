import { VaultsmithError } from '../../errors.js';
import { loadVaultSecrets, selectEncryptSecret, wipeSecrets } from '../../secrets/index.js';
import type { VaultSecret } from '../../vault/types.js';
import { rekeyFiles } from '../../services/vault-files.js';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../context.js';
import {
  ENCRYPT_VAULT_ID_OPTION,
  VAULT_ENV_HELP,
  VAULT_OPTIONS,
  VAULT_OPTIONS_HELP,
  checkVaultOptions,
  headerSecretFilter,
  labelForSecret,
  progressReporter,
  reportSuccess,
  resolveTarget,
  secretsForReading,
  vaultSettings,
  withVaultAudit,
} from '../vault-options.js';

const help = `Usage: vaultsmith rekey [options] FILE ...

Re-encrypts vault files with a new password (like ansible-vault rekey). The old password comes from
the usual vault options, the new one from --new-vault-id or --new-vault-password-file, or a prompt
asked twice. Every file is decrypted first; then each is replaced atomically keeping mode and owner.
Big vaults are re-encrypted as a stream (their plaintext stays in memory, chunk by chunk). Each file
is locked (FILE.vaultsmith-lock) like edit and set lock it: a file another vaultsmith command is
changing fails at once with exit 5 and nothing is rekeyed.

Options:
  --new-vault-id LABEL@SOURCE        the new vault identity (the file gets LABEL in its header)
  --new-vault-password-file FILE     the new password file or script
  --encrypt-vault-id LABEL           which of the new vault ids to encrypt with
${VAULT_OPTIONS_HELP}

${VAULT_ENV_HELP}

Examples:
  vaultsmith rekey vault.yml --vault-password-file old.pass --new-vault-password-file new.pass
  vaultsmith rekey group_vars/*/vault.yml --vault-id prod@old.pass --new-vault-id prod@new.pass
  vaultsmith rekey vault.yml --vault-id @prompt --new-vault-id @prompt
`;

export const rekeyCommand: Command = {
  name: 'rekey',
  summary: 're-encrypt vault files with a new password (ansible-vault rekey)',
  help,
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs('rekey', args, {
      ...VAULT_OPTIONS,
      ...ENCRYPT_VAULT_ID_OPTION,
      'new-vault-id': { type: 'string' },
      'new-vault-password-file': { type: 'string' },
    });
    checkVaultOptions('rekey', values);
    if (values['new-vault-id'] !== undefined && values['new-vault-password-file'] !== undefined) {
      throw new VaultsmithError('USAGE', 'rekey: argument --new-vault-id: not allowed with argument --new-vault-password-file');
    }
    const paths = await Promise.all(positionals.map((p) => resolveTarget(ctx, p)));
    let secrets: VaultSecret[] = [];
    let newSecrets: VaultSecret[] = [];
    try {
      await withVaultAudit(ctx, 'rekey', positionals, async (note) => {
        secrets = await secretsForReading(values, ctx);
        note.secrets(secrets);
        // ansible-vault's rule: the identity list joins the new ids only when an encrypt vault id is set.
        const encryptVaultId = values['encrypt-vault-id'] || vaultSettings(ctx).ANSIBLE_VAULT_ENCRYPT_IDENTITY || undefined;
        newSecrets = await loadVaultSecrets(
          {
            vaultIds: values['new-vault-id'] ? [values['new-vault-id']] : [],
            passwordFiles: values['new-vault-password-file'] ? [values['new-vault-password-file']] : [],
            askVaultPass: Boolean(values['ask-vault-pass'] || values['ask-vault-password']),
            createNewPassword: true,
            useIdentityList: Boolean(encryptVaultId),
          },
          ctx,
        );
        if (newSecrets.length === 0) {
          throw new VaultsmithError('PASSWORD_SOURCE', "A new vault password is required to use Ansible's Vault rekey");
        }
        const newSecret = selectEncryptSecret(newSecrets, encryptVaultId);
        await rekeyFiles(
          { paths, secrets, newSecret, newLabel: labelForSecret(newSecret) },
          { onProgress: progressReporter(ctx, paths.length), filterSecrets: headerSecretFilter(vaultSettings(ctx)), inspectPlaintext: note.plaintext },
        );
      });
      await reportSuccess(ctx, 'Rekey successful', true);
      return 0;
    } finally {
      wipeSecrets([...secrets, ...newSecrets]);
    }
  },
};
