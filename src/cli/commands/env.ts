import { VaultsmithError } from '../../errors.js';
import { withAudit } from '../../audit/index.js';
import { environmentAuditDetails } from '../../services/audit.js';
import { loadManifest } from '../../manifest/loader.js';
import { ENV_FORMATS, formatVariables, isEnvFormat, resolveEnvironmentVariables } from '../../services/env.js';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../context.js';
import { write } from '../output.js';

const help = `Usage: vaultsmith env ENV [--service S] [--format ${ENV_FORMATS.join('|')}] [--mask] [--manifest PATH]

Renders the manifest's environment-variable contract for one environment (and one service): values
from vault keys, templates over vault keys and settings, and per-environment literals. Optional
variables without a value are left out. Each format quotes values so its own parser reads back
exactly the value:

  dotenv    NAME='value'                (python-dotenv, django-environ, docker compose env_file;
                                        not 'podman run --env-file', which keeps quotes: use
                                        'vaultsmith exec' or Podman secrets there)
  shell     export NAME='value'         (eval "$(vaultsmith env production --format shell)")
  systemd   Environment="NAME=value"    (a unit drop-in; % doubled)
  json      {"NAME": "value", ...}

Options:
  --service S        only the variables service S consumes
  --format F         dotenv (default), shell, systemd or json
  --mask             show **** for every vault-derived part (for screens and logs)
  --manifest PATH    vaultsmith.yaml (default: searched upward from the current directory)

Examples:
  vaultsmith env production --service django --mask
  vaultsmith env production --format json > /run/senex/env.json
  vaultsmith env staging --service celery-worker --format systemd > celery-worker.env.conf
`;

export const envCommand: Command = {
  name: 'env',
  summary: "render an environment's variables (dotenv, shell, systemd, json), optionally masked",
  help,
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs('env', args, {
      service: { type: 'string' },
      format: { type: 'string' },
      mask: { type: 'boolean' },
      manifest: { type: 'string' },
    });
    if (positionals.length !== 1) throw new VaultsmithError('USAGE', 'env: expected exactly one ENV', { hint: "see 'vaultsmith env --help'" });
    const format = values.format ?? 'dotenv';
    if (!isEnvFormat(format)) throw new VaultsmithError('USAGE', `env: --format must be one of ${ENV_FORMATS.join(', ')}, not '${format}'`);
    const loaded = await loadManifest({ path: values.manifest, cwd: ctx.cwd });
    const variables = await withAudit(ctx, { command: 'env', ...environmentAuditDetails(loaded, positionals[0]!, ctx.env) }, async (note) => {
      const resolved = await resolveEnvironmentVariables(loaded, positionals[0]!, ctx, { service: values.service });
      note.set({ secrets: resolved.filter((v) => v.fromSecret).map((v) => v.name) });
      return resolved;
    }, { manifestPath: loaded.path });
    await write(ctx.stdout, formatVariables(variables, format, { mask: values.mask ?? false }));
    return 0;
  },
};
