import type { PlanEntry, ResultEntry, SyncReport } from '../../deliver/podman/index.js';
import { VaultsmithError } from '../../errors.js';
import { podmanQuadlet } from '../../services/podman-quadlet.js';
import { podmanSync } from '../../services/podman-sync.js';
import { parseCommandArgs } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { palette, renderTable, useColor, write, writeJson } from '../output.js';

const help = `Usage: vaultsmith podman sync ENV [--service S] [--dry-run] [--prune] [--json]
                              [--url unix:///path/podman.sock | --connection NAME]
       vaultsmith podman quadlet ENV --service S [--write DIR] [--json]

sync     Makes the Podman secret store hold exactly the managed secrets of environment ENV: every
         variable in vaultsmith.yaml with 'podman: { secret: NAME }'. Values go to Podman on stdin
         (or in the API request body), never in a command line or environment variable. Each
         managed secret is labelled vaultsmith.managed=true, vaultsmith.env=ENV, vaultsmith.project
         and a keyed fingerprint of its value (HMAC-SHA256 under a key derived from the vault
         password), so unchanged secrets are left alone and only changed ones are replaced.
         Replacing uses 'podman secret create --replace' where Podman has it (4.7+); otherwise the
         new value is staged under NAME.vaultsmith-staged, the old secret removed and NAME created
         again - and if that last step fails, the previous value is put back. Secrets vaultsmith
         did not create are never touched: a name clash stops the sync before any change.
         The plan (create / update / unchanged / prune) is printed before and the result after.

quadlet  Prints the Quadlet 'Secret=' lines of service S (type=env,target=VAR, or
         type=mount,target=PATH,mode=0400), or with --write DIR writes them as the drop-in
         DIR/<unit>.d/50-vaultsmith-secrets.conf (unit: services.S.unit, default S.container), so
         hand-written unit files are never rewritten. It opens ENV's vault as sync does, so it
         lists exactly the secrets sync delivers (optional variables without a value are left out).

Options:
  --service S        only the secrets of service S (sync: --prune still spares other services')
  --dry-run          (sync) print the plan, change nothing
  --prune            (sync) also remove managed secrets of ENV the manifest no longer names
  --url URL          (sync) talk to 'podman system service' at unix:///path/podman.sock (libpod
                     REST API) instead of running the podman CLI
  --connection NAME  (sync) podman CLI --connection NAME (CONTAINER_HOST and
                     CONTAINERS_STORAGE_CONF are honoured as podman itself does)
  --write DIR        (quadlet) the Quadlet directory, e.g. ~/.config/containers/systemd
  --manifest PATH    vaultsmith.yaml to use (default: searched upward from the current directory)
  --json             machine-readable output (names and actions only, never values)

Examples:
  vaultsmith podman sync production --dry-run
  vaultsmith podman sync production --prune
  vaultsmith podman sync staging --service django --json
  vaultsmith podman sync production --url unix://$XDG_RUNTIME_DIR/podman/podman.sock
  vaultsmith podman quadlet production --service django
  vaultsmith podman quadlet production --service django --write ~/.config/containers/systemd
`;

const DONE_WORDS: Record<PlanEntry['action'], string> = {
  create: 'created',
  update: 'updated',
  unchanged: 'unchanged',
  prune: 'pruned',
  cleanup: 'cleaned up',
  conflict: 'conflict',
};

function planTable(entries: PlanEntry[], ctx: CliContext): string {
  const colors = palette(useColor(ctx));
  const paint = (action: PlanEntry['action']) =>
    action === 'conflict' ? colors.red(action) : action === 'unchanged' ? colors.dim(action) : colors.yellow(action);
  return renderTable(
    ['SECRET', 'ACTION', 'REASON'],
    entries.map((e) => [e.name, paint(e.action), e.reason]),
  );
}

function resultTable(results: ResultEntry[]): string {
  return renderTable(
    ['SECRET', 'ACTION', 'STATUS', 'DETAIL'],
    results.map((r) => [r.name, r.action, r.status, r.error ?? (r.method === 'swap' ? 'staged copy, remove, create' : r.method ?? '')]),
  );
}

function summaryLine(report: SyncReport): string {
  const parts = (['create', 'update', 'unchanged', 'prune', 'cleanup'] as const).flatMap((action) => {
    const n = report.results.filter((r) => r.action === action && (r.status === 'done' || r.status === 'unchanged')).length;
    return n > 0 ? [`${n} ${DONE_WORDS[action]}`] : [];
  });
  return `${parts.join(', ') || 'nothing changed'}\n`;
}

function requireEnvironment(sub: string, positionals: string[]): string {
  const env = positionals[1];
  if (env === undefined) {
    throw new VaultsmithError('USAGE', `podman ${sub}: missing ENV (an environment of vaultsmith.yaml)`, { hint: "see 'vaultsmith podman --help'" });
  }
  if (positionals.length > 2) throw new VaultsmithError('USAGE', `podman ${sub}: unexpected argument '${positionals[2]}'`);
  return env;
}

export const podmanCommand: Command = {
  name: 'podman',
  summary: 'deliver secrets to Podman (sync the secret store, Quadlet Secret= drop-ins)',
  help,
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs('podman', args, {
      service: { type: 'string' },
      'dry-run': { type: 'boolean' },
      prune: { type: 'boolean' },
      json: { type: 'boolean' },
      url: { type: 'string' },
      connection: { type: 'string' },
      write: { type: 'string' },
      manifest: { type: 'string' },
    });
    const sub = positionals[0];
    if (sub === 'sync') {
      const environment = requireEnvironment(sub, positionals);
      if (values.write !== undefined) throw new VaultsmithError('USAGE', 'podman sync: --write belongs to podman quadlet');
      const outcome = await podmanSync(
        {
          environment,
          ...(values.manifest !== undefined ? { manifestPath: values.manifest } : {}),
          ...(values.service !== undefined ? { service: values.service } : {}),
          ...(values.url !== undefined ? { url: values.url } : {}),
          ...(values.connection !== undefined ? { connection: values.connection } : {}),
          prune: Boolean(values.prune),
          dryRun: Boolean(values['dry-run']),
          onWarning: (message) => void ctx.stderr.write(`warning: ${message}\n`),
          onPlan: async (plan, backend) => {
            if (values.json) return;
            const what = values['dry-run'] ? 'plan (dry run)' : 'plan';
            await write(ctx.stdout, `podman secrets of ${environment} via ${backend} - ${what}:\n`);
            const scope = values.service === undefined ? 'this environment' : `service ${values.service}`;
            await write(ctx.stdout, plan.length ? planTable(plan, ctx) : `(the manifest names no podman secrets for ${scope})\n`);
          },
        },
        ctx,
      );
      const { report, failure } = outcome;
      if (values.json) {
        await writeJson(ctx, report);
      } else if (!report.dryRun && !report.plan.every((e) => e.action === 'unchanged' || e.action === 'conflict')) {
        await write(ctx.stdout, `\nresult:\n${resultTable(report.results)}`);
        if (!failure) await write(ctx.stdout, summaryLine(report));
      } else if (!failure) {
        const nothing = report.plan.length === 0 ? 'nothing to do\n' : 'nothing to do: Podman already holds these values\n';
        await write(ctx.stdout, report.dryRun ? 'dry run: nothing was changed\n' : nothing);
      }
      if (failure) throw failure;
      return 0;
    }
    if (sub === 'quadlet') {
      const environment = requireEnvironment(sub, positionals);
      if (values.service === undefined) {
        throw new VaultsmithError('USAGE', 'podman quadlet: --service S is required (a service of vaultsmith.yaml)');
      }
      for (const flag of ['dry-run', 'prune', 'url', 'connection'] as const) {
        if (values[flag] !== undefined) throw new VaultsmithError('USAGE', `podman quadlet: --${flag} belongs to podman sync`);
      }
      const result = await podmanQuadlet(
        {
          environment,
          service: values.service,
          ...(values.manifest !== undefined ? { manifestPath: values.manifest } : {}),
          ...(values.write !== undefined ? { writeDir: values.write } : {}),
        },
        ctx,
      );
      if (values.json) await writeJson(ctx, result);
      else if (result.status === 'not-written') await write(ctx.stdout, result.content);
      else await write(ctx.stdout, `${result.status === 'written' ? 'wrote' : 'up to date:'} ${result.path}\n`);
      return 0;
    }
    throw new VaultsmithError('USAGE', sub === undefined ? 'podman: missing subcommand (sync or quadlet)' : `podman: unknown subcommand '${sub}'`, {
      hint: "see 'vaultsmith podman --help'",
    });
  },
};
