import { viewFiles, type ViewedFile } from '../../services/vault-files.js';
import { wipeSecrets } from '../../secrets/index.js';
import { parseCommandArgs } from '../args.js';
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
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
  vaultSettings,
  withVaultAudit,
} from '../vault-options.js';
import type { VaultSecret } from '../../vault/types.js';
import { readVaultTextInputs } from './encrypt.js';
import { findConflictMarkers } from '../../git/conflict-markers.js';

const help = `Usage: vaultsmith view [options] FILE ...

Prints the decrypted content of vault files (like ansible-vault view: through $PAGER or less on
a terminal, directly otherwise). A plain YAML file holding inline '!vault |' values (from
encrypt_string) is printed with those values decrypted and its comments kept, which ansible-vault
cannot do; a value no secret opens fails the command, naming its key path. '-' reads stdin.

Options:
${VAULT_OPTIONS_HELP}

${VAULT_ENV_HELP}

Examples:
  vaultsmith view group_vars/prod/vault.yml --vault-id prod@~/.vault_pass_prod
  vaultsmith view group_vars/all/vars.yml --vault-password-file ~/.vault_pass   # inline !vault values
  vaultsmith view host_vars/*/vault.yml --vault-id @prompt
`;

/** Writes each file in order; like Ansible's display(), a newline is added only when a text lacks one. */
async function emitFiles(files: ViewedFile[], output: Writable): Promise<void> {
  for (const file of files) {
    let last: number | undefined;
    if ('plaintext' in file) {
      await write(output, file.plaintext);
      last = file.plaintext[file.plaintext.length - 1];
    } else {
      // A big vault streams through; only its last byte is remembered.
      const tracker = new Writable({
        write(chunk: Buffer, _encoding, done) {
          if (chunk.length) last = chunk[chunk.length - 1];
          output.write(chunk, (e) => done(e ?? undefined));
        },
      });
      await file.streamTo(tracker);
      await new Promise<void>((resolve, reject) => tracker.end((e?: Error | null) => (e ? reject(e) : resolve())));
    }
    if (last !== 0x0a) await write(output, '\n');
  }
}

/**
 * ansible-vault pages its output on a terminal: $PAGER, else `less` (with LESS=FRSX unless set).
 * The plaintext reaches the pager through a pipe. Returns false when there is no terminal or pager.
 */
async function showInPager(files: ViewedFile[], ctx: CliContext): Promise<boolean> {
  if (!ctx.stdout.isTTY || ctx.stdout !== process.stdout) return false;
  const pager = ctx.env.PAGER ?? 'less';
  if (pager.trim() === '') return false;
  const env = { ...ctx.env, LESS: ctx.env.LESS ?? 'FRSX' };
  const child = spawn('/bin/sh', ['-c', pager], { cwd: ctx.cwd, env, stdio: ['pipe', 'inherit', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', () => resolve(127));
    child.on('close', (code) => resolve(code));
  });
  let quitEarly = false;
  child.stdin.on('error', () => {
    quitEarly = true; // the user may quit the pager early (EPIPE)
  });
  try {
    await emitFiles(files, child.stdin);
  } catch (e) {
    if (!quitEarly) throw e;
  }
  child.stdin.end();
  // 127: the shell could not find the pager; print directly instead.
  return (await exited) !== 127;
}

export const viewCommand: Command = {
  name: 'view',
  summary: 'print decrypted vault files, or YAML with inline !vault values decrypted',
  help,
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs('view', args, VAULT_OPTIONS);
    checkVaultOptions('view', values);
    let secrets: VaultSecret[] = [];
    // A big vault piped in is spooled; it is streamed out below, after the audit event.
    let closeInputs: () => Promise<void> = async () => undefined;
    try {
      // The audit event is recorded before anything is revealed.
      const viewed = await withVaultAudit(ctx, 'view', positionals, async (note) => {
        secrets = await secretsForReading(values, ctx);
        note.secrets(secrets);
        const read = await readVaultTextInputs(positionals, ctx);
        closeInputs = read.close;
        const inputs = read.inputs;
        const files = await viewFiles(inputs, secrets, {
          onProgress: progressReporter(ctx, inputs.length),
          filterSecrets: headerSecretFilter(vaultSettings(ctx)),
          inspectPlaintext: note.plaintext,
        });
        // Big vaults are streamed after the audit event; their password is checked here, before it.
        for (const file of files) if ('verify' in file) await file.verify();
        return files;
      });
      for (const f of viewed) if ('plaintext' in f && findConflictMarkers(f.plaintext.toString('utf8')).length) await write(ctx.stderr, `[WARNING]: ${f.name} holds unresolved git merge conflict markers; resolve them with 'vaultsmith edit ${f.name}'\n`);
      if (!(await showInPager(viewed, ctx))) await emitFiles(viewed, ctx.stdout);
      return 0;
    } finally {
      wipeSecrets(secrets);
      await closeInputs();
    }
  },
};
