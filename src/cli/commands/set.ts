import { VaultsmithError } from '../../errors.js';
import { withAudit } from '../../audit/index.js';
import { environmentAuditDetails } from '../../services/audit.js';
import { readFileOrThrow } from '../../internal/safe-write.js';
import { loadManifest } from '../../manifest/loader.js';
import { expandPath, readAll } from '../../secrets/index.js';
import { promptLine } from '../../secrets/input.js';
import { setValue, type NewValue } from '../../services/manifest-values.js';
import { parseCommandArgs } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { write, writeJson } from '../output.js';

const help = `Usage: vaultsmith set ENV KEY (--generate | --value-stdin | --from-file F) [--force] [--json]

Sets one key in an environment's vault, editing the YAML inside while keeping its comments, key
order and formatting; the file is replaced atomically under a lock. The value never appears in
argv: it is generated, read from stdin (one trailing newline removed; typed without echo when
stdin is a terminal) or read from a file.

An invalid value is refused before anything is written: placeholders, format (fernet, django key,
url, host, port, email, regex) and min_strength from the manifest. Templated keys that use KEY
(e.g. the Redis URLs for vault_redis_password) are re-rendered in the same write.

Options:
  --generate         a fresh value from the key's generator in the manifest
  --value-stdin      read the value from standard input
  --from-file F      read the value from file F (one trailing newline removed)
  --force            allow keys not declared in the manifest and templated keys
  --json             print what changed as JSON (never the value)
  --manifest PATH    vaultsmith.yaml (default: searched upward from the current directory)

Examples:
  vaultsmith set production vault_redis_password --generate
  printf '%s' "$CLIENT_SECRET" | vaultsmith set production vault_tastytrade_client_secret --value-stdin
  vaultsmith set staging vault_backup_secret_key --from-file /run/user/1000/s3-secret
`;

/**
 * The value from stdin: piped input in full; on a terminal, one line typed without echo, so the
 * secret does not land on the screen or in the terminal's scrollback.
 */
async function readValueFromStdin(ctx: CliContext, env: string, key: string): Promise<Buffer> {
  if (!(ctx.stdin as { isTTY?: boolean }).isTTY) return readAll(ctx.stdin);
  const typed = await promptLine(ctx, `New value for ${key} in ${env} (input hidden): `);
  if (typed === null) throw new VaultsmithError('USAGE', `set: no value was typed for ${key}`);
  return typed;
}

function stripOneNewline(text: string): string {
  return text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text;
}

export const setCommand: Command = {
  name: 'set',
  summary: 'set a vault key (generated, from stdin or a file), keeping comments and order',
  help,
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs('set', args, {
      generate: { type: 'boolean' },
      'value-stdin': { type: 'boolean' },
      'from-file': { type: 'string' },
      force: { type: 'boolean' },
      json: { type: 'boolean' },
      manifest: { type: 'string' },
    });
    if (positionals.length !== 2) {
      throw new VaultsmithError('USAGE', 'set: expected ENV and KEY (the value comes from --generate, --value-stdin or --from-file)', {
        hint: 'values are never taken from the command line, where other users and shell history can see them',
      });
    }
    const sources = [values.generate, values['value-stdin'], values['from-file'] !== undefined].filter(Boolean).length;
    if (sources !== 1) throw new VaultsmithError('USAGE', 'set: give exactly one of --generate, --value-stdin, --from-file');
    const [env, key] = positionals as [string, string];
    const loaded = await loadManifest({ path: values.manifest, cwd: ctx.cwd });
    let input: NewValue;
    if (values.generate) input = { kind: 'generate' };
    else {
      const raw = values['value-stdin']
        ? await readValueFromStdin(ctx, env, key)
        : await readFileOrThrow(expandPath(values['from-file']!, ctx.env, ctx.cwd));
      const text = raw.toString('utf8');
      raw.fill(0);
      input = { kind: 'value', value: stripOneNewline(text) };
    }
    const result = await withAudit(ctx, { command: 'set', ...environmentAuditDetails(loaded, env, ctx.env), secrets: [key] }, async (note) => {
      const done = await setValue(loaded, env, key, input, ctx, { force: values.force ?? false });
      note.set({ secrets: [key, ...done.dependents] });
      return done;
    }, { manifestPath: loaded.path });
    if (values.json) await writeJson(ctx, result);
    else {
      const also = result.dependents.length ? `; also updated ${result.dependents.join(', ')}` : '';
      await write(ctx.stdout, `${result.created ? 'added' : 'updated'} ${key} in ${env}${result.generated ? ' (generated)' : ''}${also}\n`);
    }
    return 0;
  },
};
