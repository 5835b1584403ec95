import { VaultsmithError } from '../../errors.js';
import { withAudit } from '../../audit/index.js';
import { environmentAuditDetails } from '../../services/audit.js';
import { loadManifest } from '../../manifest/loader.js';
import { unsetValue } from '../../services/manifest-values.js';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../context.js';
import { write } from '../output.js';

const help = `Usage: vaultsmith unset ENV KEY [--force] [--manifest PATH]

Removes one key from an environment's vault, keeping the other keys' comments, order and
formatting; the file is replaced atomically under a lock. Keys the manifest marks as required are
refused unless --force.

Options:
  --force            remove a required key anyway
  --manifest PATH    vaultsmith.yaml (default: searched upward from the current directory)

Examples:
  vaultsmith unset staging vault_sentry_dsn
  vaultsmith unset production vault_old_api_token --force
`;

export const unsetCommand: Command = {
  name: 'unset',
  summary: 'remove a key from an environment vault',
  help,
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs('unset', args, {
      force: { type: 'boolean' },
      manifest: { type: 'string' },
    });
    if (positionals.length !== 2) throw new VaultsmithError('USAGE', 'unset: expected ENV and KEY');
    const [env, key] = positionals as [string, string];
    const loaded = await loadManifest({ path: values.manifest, cwd: ctx.cwd });
    await withAudit(ctx, { command: 'unset', ...environmentAuditDetails(loaded, env, ctx.env), secrets: [key] }, () => unsetValue(loaded, env, key, ctx, { force: values.force ?? false }), { manifestPath: loaded.path });
    await write(ctx.stdout, `removed ${key} from ${env}\n`);
    return 0;
  },
};
