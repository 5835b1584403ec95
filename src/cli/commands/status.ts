import { VaultsmithError } from '../../errors.js';
import { loadManifest } from '../../manifest/loader.js';
import { formatAge } from '../../rotate/duration.js';
import { renderPrometheus, secretStatuses, type SecretStatus } from '../../services/status.js';
import { EXIT_CODES } from '../errors.js';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../context.js';
import { palette, renderTable, useColor, write, writeJson } from '../output.js';

const help = `Usage: vaultsmith status [ENV] [--json] [--format table|json|prometheus] [--fail-on-overdue]

Shows each secret with a declared rotation: its age, period, due date, last rotation, and any
rotation in progress. Reads only non-secret state (.vaultsmith/history-ENV.json, written by init,
set and rotate, and the rotation journal), so it needs no vault password — fit for cron or a
node_exporter textfile collector. A secret with no history uses the vault file's modification
time (shown as source 'file-mtime').

Options:
  --json               same as --format json
  --format F           table (default), json, or prometheus (text exposition format)
  --fail-on-overdue    exit ${EXIT_CODES.CHECK_FAILED} when any secret is overdue
  --manifest PATH      vaultsmith.yaml (default: searched upward)

Examples:
  vaultsmith status
  vaultsmith status production --fail-on-overdue
  vaultsmith status --format prometheus > /var/lib/node_exporter/textfile/vaultsmith.prom
`;

function dateOnly(iso: string | null): string {
  return iso ? iso.slice(0, 10) : '-';
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'secret ages, rotation periods and due dates (table, JSON, Prometheus)',
  help,
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs('status', args, {
      json: { type: 'boolean' },
      format: { type: 'string' },
      'fail-on-overdue': { type: 'boolean' },
      manifest: { type: 'string' },
    });
    if (positionals.length > 1) throw new VaultsmithError('USAGE', `status: unexpected argument '${positionals[1]}'`);
    const format = values.json ? 'json' : (values.format ?? 'table');
    if (!['table', 'json', 'prometheus'].includes(format)) {
      throw new VaultsmithError('USAGE', `status: --format must be table, json or prometheus, not '${format}'`);
    }
    const loaded = await loadManifest({ path: values.manifest, cwd: ctx.cwd });
    const envs = positionals[0] ? [positionals[0]] : Object.keys(loaded.manifest.environments);
    const now = new Date();
    const statuses: SecretStatus[] = [];
    for (const env of envs) statuses.push(...(await secretStatuses(loaded, env, now)));
    if (format === 'json') await writeJson(ctx, statuses);
    else if (format === 'prometheus') await write(ctx.stdout, renderPrometheus(statuses));
    else {
      const p = palette(useColor(ctx));
      const rows = statuses.map((s) => [
        s.env,
        s.secret,
        s.strategy,
        s.ageSeconds === null ? '-' : formatAge(s.ageSeconds * 1000),
        s.period,
        dateOnly(s.dueAt),
        dateOnly(s.lastRotatedAt),
        s.rotationInProgress ? p.yellow(`rotating (${s.rotationPhase})`) : s.overdue ? p.red('OVERDUE') : p.green('ok'),
      ]);
      await write(ctx.stdout, renderTable(['ENV', 'SECRET', 'STRATEGY', 'AGE', 'PERIOD', 'DUE', 'LAST ROTATED', 'STATE'], rows));
    }
    const overdue = statuses.filter((s) => s.overdue);
    if (values['fail-on-overdue'] && overdue.length > 0) {
      // One line on stderr for cron mail; stdout keeps the requested format intact.
      const names = overdue.map((s) => `${s.env}/${s.secret}`).join(', ');
      await write(ctx.stderr, `ERROR! ${overdue.length} ${overdue.length === 1 ? 'secret is' : 'secrets are'} overdue for rotation: ${names}\n`);
      await write(ctx.stderr, `hint: rotate with 'vaultsmith rotate ENV --due'\n`);
      return EXIT_CODES.CHECK_FAILED;
    }
    return 0;
  },
};
