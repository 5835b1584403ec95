import { VaultsmithError } from '../../errors.js';
import { loadManifest } from '../../manifest/loader.js';
import { rotateSecrets, type RotateMode } from '../../services/rotate.js';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../context.js';
import { renderTable, write, writeJson } from '../output.js';

const help = `Usage: vaultsmith rotate ENV SECRET [--dry-run] [--yes] [--json] [--admin-url URL]
       vaultsmith rotate ENV --due [--yes] [--json]
       vaultsmith rotate ENV [SECRET] --resume [--finish-now] [--json]
       vaultsmith rotate ENV [SECRET] --abort [--finish-now] [--json]
       vaultsmith rotate ENV SECRET --setup        (postgres-alternating, once)

Rotates a secret against the service that uses it, in phases that are each safe to repeat:
  prepare  generate the new value and store it as pending in the encrypted vault
  apply    make the service accept it (PostgreSQL: ALTER ROLE with a client-computed SCRAM
           verifier; Redis: ACL add-by-hash; command: your apply command)
  test     log in with the new value
  deliver  promote it to current, re-derive templated keys (e.g. Redis URLs), restart the
           consuming services in declared order, run their health checks
  finish   after the grace period, retire the old credential (Redis: remove its hash;
           postgres-alternating: clear the old role's password; Django: drop it from
           SECRET_KEY_FALLBACKS; Fernet: drop it from the key list)
  record   history for 'vaultsmith status' and an audit event
A journal in .vaultsmith/rotation-ENV.json (no values) records the phase done. If a rotation is
interrupted, '--resume' completes it and '--abort' undoes it (after delivery, --abort completes
it, as the old credential may already be refused; the old one is still retired only after the
grace period, or at once with --finish-now). A new rotation of a secret is refused while one
is in progress, including its grace period.

Options:
  --due            rotate every secret whose period has passed, and finish rotations whose grace
                   period has ended (for cron)
  --resume         continue interrupted rotations (all of ENV, or SECRET)
  --abort          undo interrupted rotations (all of ENV, or SECRET)
  --setup          one-time set-up for postgres-alternating (needs the administrative URL):
                   creates the NOLOGIN owner role (rotation.owner_role, default <role a>_owner)
                   and the two LOGIN roles as its members acting as it, and gives the role in
                   use the vault's current password
  --finish-now     retire the old credential now instead of after the grace period (with
                   --resume, or --abort of a rotation already delivered)
  --dry-run        show what would happen; change nothing
  --yes            required for environments marked production: true
  --admin-url URL  administrative connection (PostgreSQL/Redis URL). Prefer the environment
                   variable VAULTSMITH_ADMIN_URL (or the one named by rotation.admin_url_env):
                   argv is visible to other users and in shell history
  --manifest PATH  vaultsmith.yaml (default: searched upward from the current directory)
  --json           machine-readable result (never values)

Test hook: VAULTSMITH_FAULT_KILL_AFTER_PHASE=<point> (or <secret>@<point>) makes the process
SIGKILL itself at that point (start, prepare:stored, prepare, apply, test, deliver:promoted,
deliver, finish:retired, finish, record), to prove that --resume and --abort recover.

Examples:
  vaultsmith rotate staging vault_db_password --dry-run
  VAULTSMITH_ADMIN_URL=postgres://postgres@db/postgres vaultsmith rotate production vault_db_password --yes
  vaultsmith rotate production --due --yes --json
  vaultsmith rotate production --resume
`;

export const rotateCommand: Command = {
  name: 'rotate',
  summary: 'rotate a secret against its service (PostgreSQL, Redis, Django, Fernet), crash-safe',
  help,
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs('rotate', args, {
      due: { type: 'boolean' },
      setup: { type: 'boolean' },
      resume: { type: 'boolean' },
      abort: { type: 'boolean' },
      'finish-now': { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      yes: { type: 'boolean', short: 'y' },
      json: { type: 'boolean' },
      'admin-url': { type: 'string' },
      manifest: { type: 'string' },
    });
    const [env, secret, extra] = positionals;
    if (!env) throw new VaultsmithError('USAGE', 'rotate: missing ENV', { hint: "see 'vaultsmith rotate --help'" });
    if (extra !== undefined) throw new VaultsmithError('USAGE', `rotate: unexpected argument '${extra}'`);
    const modes = (['due', 'resume', 'abort', 'setup'] as const).filter((m) => values[m]);
    if (modes.length > 1) throw new VaultsmithError('USAGE', `rotate: --${modes.join(' and --')} cannot be combined`);
    const mode: RotateMode = modes[0] ?? 'start';
    if (mode === 'setup' && !secret) throw new VaultsmithError('USAGE', 'rotate: --setup needs SECRET');
    if (mode === 'due' && secret) throw new VaultsmithError('USAGE', 'rotate: --due takes no SECRET');
    if (values['dry-run'] && mode !== 'start') throw new VaultsmithError('USAGE', 'rotate: --dry-run only applies to a new rotation');
    const loaded = await loadManifest({ path: values.manifest, cwd: ctx.cwd });
    const production = loaded.manifest.environments[env]?.production ?? false;
    if (production && !values.yes && !values['dry-run'] && mode !== 'abort') {
      throw new VaultsmithError('USAGE', `rotate: ${env} is a production environment; add --yes to rotate`);
    }
    const outcome = await rotateSecrets(
      {
        env,
        secret,
        mode,
        manifestPath: loaded.path,
        dryRun: values['dry-run'],
        finishNow: values['finish-now'],
        adminUrl: values['admin-url'],
      },
      { ...ctx, log: values.json ? undefined : (line) => void ctx.stderr.write(`${line}\n`) },
    );
    if (values.json) {
      await writeJson(ctx, outcome);
    } else if (outcome.results.length === 0 && outcome.failures.length === 0) {
      await write(ctx.stdout, mode === 'due' ? `nothing is due in ${env}\n` : `no rotation${secret ? ` of ${secret}` : ''} in progress in ${env}\n`);
    } else {
      const rows = outcome.results.map((r) => [r.secret, r.strategy, r.status, r.phase ?? '-', r.finishAfter ?? '-']);
      for (const f of outcome.failures) rows.push([f.secret, '-', 'failed', '-', '-']);
      await write(ctx.stdout, renderTable(['SECRET', 'STRATEGY', 'STATUS', 'PHASE DONE', 'FINISH AFTER'], rows));
      for (const f of outcome.failures) await write(ctx.stderr, `ERROR! ${f.secret}: ${f.error}\n`);
    }
    if (outcome.failures.length) return 6;
    return 0;
  },
};
