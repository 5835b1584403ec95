import { VaultsmithError } from '../../errors.js';
import { withAudit } from '../../audit/index.js';
import { environmentAuditDetails } from '../../services/audit.js';
import { loadManifest } from '../../manifest/loader.js';
import { getValue } from '../../services/manifest-values.js';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../context.js';
import { write } from '../output.js';

const help = `Usage: vaultsmith get ENV NAME [--manifest PATH]

Prints one value of an environment: the vault key NAME, or, when NAME is not a vault key, the
manifest variable NAME rendered for ENV (e.g. REDIS_URL). Printing the value is this command's
purpose: pipe it, do not paste it.

Options:
  --manifest PATH    vaultsmith.yaml (default: searched upward from the current directory)

Examples:
  vaultsmith get production vault_db_user
  vaultsmith get staging REDIS_URL
  PGPASSWORD="$(vaultsmith get production vault_db_password)" psql -h db -U senex_user senextrader
`;

export const getCommand: Command = {
  name: 'get',
  summary: "print one vault key or variable of an environment",
  help,
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs('get', args, { manifest: { type: 'string' } });
    if (positionals.length !== 2) throw new VaultsmithError('USAGE', 'get: expected ENV and NAME', { hint: "see 'vaultsmith get --help'" });
    const [env, name] = positionals as [string, string];
    const loaded = await loadManifest({ path: values.manifest, cwd: ctx.cwd });
    // Recorded (fail closed) before the value is printed; the event names the key, never the value.
    const value = await withAudit(ctx, { command: 'get', ...environmentAuditDetails(loaded, env, ctx.env), secrets: [name] }, () => getValue(loaded, env, name, ctx), { manifestPath: loaded.path });
    await write(ctx.stdout, `${value}\n`);
    return 0;
  },
};
