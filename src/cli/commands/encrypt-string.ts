import { VaultsmithError } from '../../errors.js';
import { promptLine, readAll, wipeSecrets } from '../../secrets/index.js';
import { safeWrite } from '../../internal/safe-write.js';
import { encryptVault, formatVaultString } from '../../vault/index.js';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../context.js';
import { write } from '../output.js';
import {
  ENCRYPT_VAULT_ID_OPTION,
  OUTPUT_OPTION,
  VAULT_ENV_HELP,
  VAULT_OPTIONS,
  VAULT_OPTIONS_HELP,
  checkVaultOptions,
  labelForSecret,
  reportSuccess,
  secretForEncrypting,
} from '../vault-options.js';
import { resolve } from 'node:path';

const help = `Usage: vaultsmith encrypt_string [options] [STRING ...]
       (alias: encrypt-string)

Encrypts strings into '!vault |' YAML blocks to paste into vars files, exactly as
ansible-vault encrypt_string prints them. Strings come from the arguments, from stdin ('-', no
arguments, or --stdin-name), or from a prompt (--prompt). Prefer stdin or --prompt for real
secrets: arguments are visible to other users in the process list.

Options:
  -n, --name NAME              variable name for the next STRING (repeatable, in order)
  --stdin-name NAME            variable name for the string read from stdin
  -p, --prompt                 prompt for the variable name and the string
  --show-input                 do not hide the string typed at the prompt
  --output FILE                write to FILE instead of stdout ('-' for stdout)
  --encrypt-vault-id LABEL     the vault id to encrypt with (required if several are given)
${VAULT_OPTIONS_HELP}

${VAULT_ENV_HELP}

Examples:
  printf %s "$DB_PASSWORD" | vaultsmith encrypt_string --stdin-name db_password --vault-id prod@prod.pass
  vaultsmith encrypt_string --prompt --vault-password-file ~/.vault_pass
  vaultsmith encrypt-string -n user -n port alice 5432 --vault-id dev@dev.pass
`;

type Source = 'stdin' | 'the command line args' | 'the interactive prompt';

export const encryptStringCommand: Command = {
  name: 'encrypt_string',
  aliases: ['encrypt-string'],
  summary: "encrypt strings into '!vault |' YAML values (ansible-vault encrypt_string)",
  help,
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs('encrypt_string', args, {
      ...VAULT_OPTIONS,
      ...ENCRYPT_VAULT_ID_OPTION,
      ...OUTPUT_OPTION,
      name: { type: 'string', short: 'n', multiple: true },
      'stdin-name': { type: 'string' },
      prompt: { type: 'boolean', short: 'p' },
      'show-input': { type: 'boolean' },
    });
    checkVaultOptions('encrypt_string', values);
    // Ansible 2.14 also treats "no arguments" as stdin, which makes a bare --prompt unusable; we do not.
    const readStdin =
      (positionals as string[]).includes('-') || values['stdin-name'] !== undefined || (positionals.length === 0 && !values.prompt);
    if (values.prompt && readStdin) {
      throw new VaultsmithError('USAGE', 'The --prompt option is not supported if also reading input from stdin');
    }
    const secret = await secretForEncrypting(values, ctx);
    try {
      const plaintexts: { text: Buffer; source: Source; name: string | undefined }[] = [];

      if (values.prompt) {
        const name = await promptLine(ctx, 'Variable name (enter for no name): ', { echo: true });
        const hidden = !values['show-input'];
        const text = await promptLine(ctx, hidden ? 'String to encrypt (hidden): ' : 'String to encrypt: ', { echo: !hidden });
        if (!text || text.length === 0) {
          throw new VaultsmithError('INPUT', 'The plaintext provided from the prompt was empty, not encrypting');
        }
        const nameText = name?.toString('utf8') ?? '';
        plaintexts.push({ text, source: 'the interactive prompt', name: nameText === '' ? undefined : nameText });
      }
      if (readStdin) {
        if (ctx.stdout.isTTY) {
          await write(ctx.stderr, 'Reading plaintext input from stdin. (ctrl-d to end input, twice if your content does not already have a newline)\n');
        }
        const text = await readAll(ctx.stdin);
        if (text.length === 0) throw new VaultsmithError('INPUT', 'stdin was empty, not encrypting');
        plaintexts.push({ text, source: 'stdin', name: values['stdin-name'] });
      }
      const strings = positionals.filter((a) => a !== '-');
      const names = values.name ?? [];
      if (names.length && strings.length > names.length) {
        // Vague on purpose, as Ansible: never echo a plaintext.
        await write(ctx.stderr, 'The number of --name options do not match the number of args.\n');
        await write(ctx.stderr, `The last named variable will be "${names[names.length - 1]}". The rest will not have names.\n`);
      }
      strings.forEach((s, i) => {
        if (s === '') throw new VaultsmithError('INPUT', 'The plaintext provided from the command line args was empty, not encrypting');
        plaintexts.push({ text: Buffer.from(s, 'utf8'), source: 'the command line args', name: names[i] });
      });

      const label = labelForSecret(secret);
      const blocks = await Promise.all(
        plaintexts.map(async (p) => formatVaultString(await encryptVault(p.text, secret, { label }), p.name ? { name: p.name } : {})),
      );
      if (plaintexts.length > 1) {
        // Ansible writes these delimiters to stderr, between nothing on stdout: all go first here.
        for (const [i, p] of plaintexts.entries()) {
          await write(
            ctx.stderr,
            p.name
              ? `# The encrypted version of variable ("${p.name}", the string #${i + 1} from ${p.source}).\n`
              : `# The encrypted version of the string #${i + 1} from ${p.source}.)\n`,
          );
        }
      }
      plaintexts.forEach((p) => p.text.fill(0));
      const out = blocks.join('\n');
      if (values.output && values.output !== '-') await safeWrite(resolve(ctx.cwd, values.output), out, { mode: 0o600 });
      else await write(ctx.stdout, out);
      await reportSuccess(ctx, 'Encryption successful');
      return 0;
    } finally {
      wipeSecrets([secret]);
    }
  },
};
