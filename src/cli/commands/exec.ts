import { VaultsmithError } from '../../errors.js';
import { withAudit } from '../../audit/index.js';
import { environmentAuditDetails } from '../../services/audit.js';
import { loadManifest } from '../../manifest/loader.js';
import { ExecStartError, execWithVariables, resolveEnvironmentVariables } from '../../services/env.js';
import { write } from '../output.js';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../context.js';

const help = `Usage: vaultsmith exec ENV [--service S] [--manifest PATH] -- COMMAND [ARGS...]

Runs COMMAND with the environment's variables (as 'vaultsmith env' renders them) added to the
current environment. Values travel only through the child's environment: never argv, never a temp
file. Standard input and output are passed through, signals (INT, TERM, HUP, QUIT, USR1, USR2) are
forwarded, and vaultsmith exits with COMMAND's exit status (128+N when killed by signal N; 127
when COMMAND is not found, 126 when it cannot be run, as shells report them).

Options:
  --service S        only the variables service S consumes
  --manifest PATH    vaultsmith.yaml (default: searched upward from the current directory)

Examples:
  vaultsmith exec staging --service django -- python manage.py migrate
  vaultsmith exec production --service celery-worker -- celery -A senextrader worker
`;

export const execCommand: Command = {
  name: 'exec',
  summary: "run a command with an environment's variables in its environment",
  help,
  async run(args, ctx) {
    const dd = args.indexOf('--');
    const own = dd === -1 ? args : args.slice(0, dd);
    const command = dd === -1 ? [] : args.slice(dd + 1);
    const { values, positionals } = parseCommandArgs('exec', own, {
      service: { type: 'string' },
      manifest: { type: 'string' },
    });
    if (positionals.length !== 1) {
      throw new VaultsmithError('USAGE', 'exec: expected ENV, then -- and the command', { hint: 'vaultsmith exec production -- env' });
    }
    if (command.length === 0) throw new VaultsmithError('USAGE', 'exec: no command given after --');
    const loaded = await loadManifest({ path: values.manifest, cwd: ctx.cwd });
    // Recorded before the command runs with the values; the event names the variables, never values.
    const variables = await withAudit(ctx, { command: 'exec', ...environmentAuditDetails(loaded, positionals[0]!, ctx.env) }, async (note) => {
      const resolved = await resolveEnvironmentVariables(loaded, positionals[0]!, ctx, { service: values.service });
      note.set({ secrets: resolved.filter((v) => v.fromSecret).map((v) => v.name) });
      return resolved;
    }, { manifestPath: loaded.path });
    try {
      return await execWithVariables(command[0]!, command.slice(1), variables, ctx.env, ctx, ctx.cwd);
    } catch (e) {
      // As sh, env and sudo do: 127 when the command is not found, 126 when it cannot be run.
      if (!(e instanceof ExecStartError)) throw e;
      await write(ctx.stderr, `ERROR! ${e.message}\n`);
      return e.exitCode;
    }
  },
};
