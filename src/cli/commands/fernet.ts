import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { labelsOf, withAudit } from '../../audit/index.js';
import { VaultsmithError } from '../../errors.js';
import { type FernetAction, type LineResult, parseFernetKeys, processLine, splitLines } from '../../fernet/batch.js';
import type { MultiFernet } from '../../fernet/index.js';
import { readFileOrThrow } from '../../internal/safe-write.js';
import { buildVaultIdList, loadVaultSecrets, wipeSecrets } from '../../secrets/index.js';
import { decryptVault, type VaultSecret } from '../../vault/index.js';
import { parseCommandArgs } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { write } from '../output.js';
import { VAULT_OPTIONS, VAULT_OPTIONS_HELP, type VaultOptionValues, checkVaultOptions } from '../vault-options.js';

const DEFAULT_KEY_ENV = 'FIELD_ENCRYPTION_KEY';
// The operations guide stores the Fernet key in the vault under this name.
const DEFAULT_KEY_NAME = 'vault_field_encryption_key';
const ACTIONS: readonly FernetAction[] = ['encrypt', 'decrypt', 'rotate'];
const FLUSH_EVERY_LINES = 512;

const help = `Usage: vaultsmith fernet encrypt|decrypt|rotate [options] < input

Fernet tokens as Django's encrypted fields and Python's cryptography.fernet write them, in bulk:
one value per stdin line, one result per stdout line, in the same order.

  encrypt   each line (bytes, an empty line too) becomes a token made with the first key
  decrypt   each token line becomes its plaintext; tried with every key
  rotate    each token is re-encrypted with the first key, keeping its timestamp
            (MultiFernet.rotate) - run after putting a new key first in the list

Lines end at \\n (a \\r before it is dropped, so CRLF files work). Blank token lines stay blank.
A token that fails prints an empty line on stdout, then 'ERROR! line N: invalid token' on stderr
(never its content); every line is processed and the exit status is non-zero if any failed.

The key never comes from the command line (it would show in 'ps' and shell history):
  --key-env VAR       environment variable with the key (default ${DEFAULT_KEY_ENV}); a
                      comma-separated list means several keys, newest first (FERNET_KEYS style)
  --vault FILE        read the key from this vault instead ...
  --key-name NAME     ... under this top-level key (default ${DEFAULT_KEY_NAME}): a key, a
                      comma-separated list or a YAML list
${VAULT_OPTIONS_HELP}

Options:
  --ttl SECONDS       decrypt: refuse tokens older than this, and tokens stamped more than 60 s
                      in the future (cryptography's decrypt(token, ttl))
  --json              print {"results": [{"line", "value" | "value_base64" | "token" | "error"}],
                      "failed"} instead of lines (plaintexts with line breaks need this)

Examples:
  vaultsmith gen fernet                      # a new key
  psql -Atc 'select token from oauth_tokens order by id' | vaultsmith fernet decrypt --json
  FIELD_ENCRYPTION_KEY="$NEW,$OLD" vaultsmith fernet rotate < tokens.txt > rotated.txt
  echo 'hello' | vaultsmith fernet encrypt --key-env MY_FERNET_KEY
  vaultsmith fernet decrypt --vault group_vars/prod/vault.yml --vault-id prod@~/.vault_pass < t.txt
`;

function refuseKeyInArgv(args: string[]): void {
  for (const arg of args) {
    if (arg === '--') break;
    if (/^--?(key|keys|fernet-key|secret)(=|$)/.test(arg)) {
      throw new VaultsmithError('USAGE', 'fernet: a key is never accepted on the command line (it would show in ps and shell history)', {
        hint: `put it in an environment variable (--key-env VAR, default ${DEFAULT_KEY_ENV}) or in a vault (--vault FILE --key-name NAME)`,
      });
    }
  }
}

function parseTtl(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new VaultsmithError('USAGE', `fernet: --ttl must be a whole number of seconds, not '${text}'`);
  }
  return Number(text);
}

/**
 * Vault secrets as ansible-vault finds them, except that a password prompt may not read a piped
 * stdin: that is where the tokens come from.
 */
async function vaultSecrets(values: VaultOptionValues, ctx: CliContext) {
  const interactive = Boolean(ctx.stdin.isTTY);
  const request = {
    vaultIds: values['vault-id'],
    passwordFiles: [...(values['vault-password-file'] ?? []), ...(values['vault-pass-file'] ?? [])],
    askVaultPass: Boolean(values['ask-vault-pass'] || values['ask-vault-password']),
    autoPrompt: interactive,
  };
  // Includes ANSIBLE_VAULT_IDENTITY_LIST and ANSIBLE_ASK_VAULT_PASS, exactly as loadVaultSecrets sees them.
  const prompts = buildVaultIdList(request, ctx.env).some((id) => /(^|@)prompt(_ask_vault_pass)?$/.test(id));
  if (prompts && !interactive) {
    throw new VaultsmithError('USAGE', 'fernet: a vault password prompt cannot share the piped stdin with the tokens', {
      hint: 'use --vault-password-file FILE or --vault-id LABEL@FILE',
    });
  }
  const secrets = await loadVaultSecrets(request, ctx);
  if (secrets.length === 0) {
    throw new VaultsmithError('PASSWORD_SOURCE', "A vault password is required to use Ansible's Vault", {
      hint: 'use --vault-password-file FILE or --vault-id LABEL@FILE (stdin carries the tokens)',
    });
  }
  return secrets;
}

/** Reading the key out of a vault is a secret access: audited (fail closed) like the vault commands. */
async function keysFromVault(action: FernetAction, file: string, keyName: string, values: VaultOptionValues, ctx: CliContext): Promise<MultiFernet> {
  const path = resolve(ctx.cwd, file);
  return withAudit(ctx, { command: `fernet ${action}`, file: path, secrets: [keyName] }, async (note) => {
    const vaultText = await readFileOrThrow(path);
    const secrets = await vaultSecrets(values, ctx);
    note.set({ label: labelsOf(secrets) });
    return readKeysFromVault(vaultText, file, keyName, secrets);
  });
}

async function readKeysFromVault(vaultText: Buffer, file: string, keyName: string, secrets: VaultSecret[]): Promise<MultiFernet> {
  let plaintext: Buffer | undefined;
  try {
    ({ plaintext } = await decryptVault(vaultText, secrets, { source: file }));
    const doc = parseDocument(plaintext.toString('utf8'));
    if (doc.errors.length) {
      // First line only: yaml's later lines quote the (decrypted) source.
      throw new VaultsmithError('INPUT', `${file}: cannot parse the decrypted YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
    }
    const value: unknown = doc.toJS();
    const entry = value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[keyName] : undefined;
    if (entry === undefined || entry === null) {
      throw new VaultsmithError('INPUT', `${file} has no key '${keyName}'`, { hint: 'choose the vault key with --key-name NAME' });
    }
    return parseFernetKeys(entry, `${file}: ${keyName}`);
  } finally {
    plaintext?.fill(0);
    wipeSecrets(secrets);
  }
}

function keysFromEnvironment(variable: string, ctx: CliContext): MultiFernet {
  const value = ctx.env[variable];
  if (value === undefined || value.trim() === '') {
    throw new VaultsmithError('INPUT', `environment variable ${variable} is not set`, {
      hint: 'export the key (vaultsmith gen fernet makes one), name another variable with --key-env, or use --vault FILE',
    });
  }
  return parseFernetKeys(value, variable);
}

function jsonResult(action: FernetAction, result: LineResult): Record<string, unknown> {
  if (result.kind === 'blank') return { line: result.line, blank: true };
  if (result.kind === 'error') return { line: result.line, error: result.reason };
  if (action !== 'decrypt') return { line: result.line, token: result.output.toString('ascii') };
  try {
    return { line: result.line, value: new TextDecoder('utf-8', { fatal: true }).decode(result.output) };
  } catch {
    return { line: result.line, value_base64: result.output.toString('base64') };
  }
}

export const fernetCommand: Command = {
  name: 'fernet',
  summary: 'encrypt, decrypt and rotate Fernet tokens (Django encrypted fields) in bulk',
  help,
  async run(args, ctx) {
    refuseKeyInArgv(args);
    const { values, positionals } = parseCommandArgs('fernet', args, {
      ...VAULT_OPTIONS,
      'key-env': { type: 'string' },
      vault: { type: 'string' },
      'key-name': { type: 'string' },
      ttl: { type: 'string' },
      json: { type: 'boolean' },
    });
    const action = positionals[0];
    if (action === undefined || !(ACTIONS as readonly string[]).includes(action)) {
      throw new VaultsmithError('USAGE', action === undefined ? 'fernet: missing action' : `fernet: unknown action '${action}'`, {
        hint: 'actions: encrypt, decrypt, rotate',
      });
    }
    if (positionals.length > 1) {
      // Not echoed: it may well be a secret typed in the wrong place.
      throw new VaultsmithError('USAGE', 'fernet: unexpected argument; values and tokens are read from stdin, one per line');
    }
    const fernetAction = action as FernetAction;
    const ttl = parseTtl(values.ttl);
    if (ttl !== undefined && fernetAction !== 'decrypt') throw new VaultsmithError('USAGE', 'fernet: --ttl applies to decrypt only');
    if (values.vault !== undefined && values['key-env'] !== undefined) {
      throw new VaultsmithError('USAGE', 'fernet: use either --key-env or --vault, not both');
    }
    if (values['key-name'] !== undefined && values.vault === undefined) {
      throw new VaultsmithError('USAGE', 'fernet: --key-name needs --vault FILE');
    }
    checkVaultOptions('fernet', values);

    const fernet =
      values.vault !== undefined
        ? await keysFromVault(fernetAction, values.vault, values['key-name'] ?? DEFAULT_KEY_NAME, values, ctx)
        : keysFromEnvironment(values['key-env'] ?? DEFAULT_KEY_ENV, ctx);

    const json = Boolean(values.json);
    if (ctx.stdin.isTTY) await write(ctx.stderr, `Reading ${fernetAction === 'encrypt' ? 'values' : 'tokens'} from stdin, one per line (Ctrl-D ends)\n`);
    const results: Record<string, unknown>[] = [];
    let pending: Buffer[] = [];
    let failed = 0;
    let lineNumber = 0;
    const flush = async () => {
      if (pending.length) await write(ctx.stdout, Buffer.concat(pending));
      for (const chunk of pending) chunk.fill(0);
      pending = [];
    };
    for await (const input of splitLines(ctx.stdin)) {
      lineNumber++;
      const result = processLine(fernetAction, fernet, lineNumber, input, { ttl, singleLine: !json });
      if (result.kind === 'error') failed++;
      if (json) {
        results.push(jsonResult(fernetAction, result));
      } else {
        if (result.kind === 'error') {
          await flush(); // keep stderr and stdout in step for a reader watching both
          await write(ctx.stderr, `ERROR! line ${result.line}: ${result.reason}\n`);
        }
        pending.push(result.kind === 'ok' ? Buffer.concat([result.output, Buffer.from('\n')]) : Buffer.from('\n'));
        if (result.kind === 'ok') result.output.fill(0);
        if (pending.length >= FLUSH_EVERY_LINES) await flush();
      }
    }
    await flush();
    if (json) await write(ctx.stdout, `${JSON.stringify({ results, failed }, null, 2)}\n`);
    if (failed) {
      const noun = fernetAction === 'encrypt' ? 'values' : 'tokens';
      throw new VaultsmithError('INVALID_TOKEN', `${failed} of ${lineNumber} ${noun} failed (${fernetAction})`);
    }
    return 0;
  },
};
