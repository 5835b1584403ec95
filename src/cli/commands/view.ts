import { viewFiles } from '../../services/vault-files.js';
import { wipeSecrets } from '../../secrets/index.js';
import { parseCommandArgs } from '../args.js';
import { spawn } from 'node:child_process';
import type { CliContext, Command } from '../context.js';
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

Prints the decrypted content of vault files (like ansible-vault view: through $PAGER or less on
a terminal, directly otherwise). A plain
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

/**
 * ansible-vault pages its output on a terminal: $PAGER, else `less` (with LESS=FRSX unless set).
 * The plaintext reaches the pager through a pipe. Returns false when there is no terminal or pager.
 */
async function showInPager(text: Buffer, ctx: CliContext): Promise<boolean> {
  if (!ctx.stdout.isTTY || ctx.stdout !== process.stdout) return false;
  const pager = ctx.env.PAGER ?? 'less';
  if (pager.trim() === '') return false;
  const env = { ...ctx.env, LESS: ctx.env.LESS ?? 'FRSX' };
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', pager], { cwd: ctx.cwd, env, stdio: ['pipe', 'inherit', 'inherit'] });
    child.on('error', () => resolve(false));
    // 127: the shell could not find the pager; print directly instead.
    child.on('close', (code) => resolve(code !== 127));
    child.stdin.on('error', () => undefined); // the user may quit the pager early (EPIPE)
    child.stdin.end(text);
  });
}

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
      // Like Ansible's display(): a newline is added only when the text lacks one.
      const text = Buffer.concat(
        viewed.flatMap((file) =>
          file.plaintext.length === 0 || file.plaintext[file.plaintext.length - 1] !== 0x0a ? [file.plaintext, Buffer.from('\n')] : [file.plaintext],
        ),
      );
      if (!(await showInPager(text, ctx))) await write(ctx.stdout, text);
      return 0;
    } finally {
      wipeSecrets(secrets);
    }
  },
};
