import { postgresAuditSchemaSql } from '../../audit/index.js';
import { VaultsmithError } from '../../errors.js';
import { describeBreak, listAudit, verifyAuditTrail } from '../../services/audit.js';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../context.js';
import { renderTable, write, writeJson } from '../output.js';

const help = `Usage: vaultsmith audit [--env E] [--since T] [--actor A] [--json]
       vaultsmith audit verify [--sink file|postgres] [--json]   (default: every configured sink)
       vaultsmith audit sql [--table NAME] [--writer ROLE]

Lists the audit trail: who decrypted or changed which secrets (names only, never values), when,
where, with which vault id, and whether it worked. Events are hash-chained and sealed with the
audit key, so 'audit verify' detects an edited, inserted, deleted or truncated event and exits
non-zero naming the first broken one.

Options:
  --env E          only events of environment E
  --since T        only events since T: an ISO time (2024-05-01T12:00Z) or a span (30m, 24h, 7d)
  --actor A        only events by OS user or git email A
  --sink S         read the 'file' or 'postgres' sink (default: the file when configured)
  --manifest PATH  vaultsmith.yaml to read the 'audit:' settings from (default: searched upward)
  --json           machine-readable output
  --table NAME     (sql) table name (default vaultsmith_audit)
  --writer ROLE    (sql) the role that records events: granted SELECT and INSERT only

Configuration (environment first, then 'audit:' in vaultsmith.yaml):
  VAULTSMITH_AUDIT_LOG / audit.file         JSON-lines log
                                            (default $XDG_STATE_HOME/vaultsmith/audit.jsonl)
  VAULTSMITH_AUDIT_KEY_FILE / audit.key_file  the chain key, outside the repository
                                            (default $XDG_CONFIG_HOME/vaultsmith/audit.key)
  VAULTSMITH_AUDIT_DATABASE_URL / audit.postgres.url_env   PostgreSQL sink
  VAULTSMITH_AUDIT=off / audit.enabled: false              disable auditing explicitly
A configured sink that cannot be written refuses the operation (fail closed).

Examples:
  vaultsmith audit --env production --since 7d
  vaultsmith audit --actor alice@example.com --json
  vaultsmith audit verify
  vaultsmith audit sql --writer vaultsmith_writer | psql "$ADMIN_URL"
`;

function sinkOption(value: string | undefined): 'file' | 'postgres' | undefined {
  if (value === undefined || value === 'file' || value === 'postgres') return value;
  throw new VaultsmithError('USAGE', `audit: --sink must be 'file' or 'postgres', not '${value}'`);
}

export const auditCommand: Command = {
  name: 'audit',
  summary: 'list and verify the tamper-evident audit trail',
  help,
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs('audit', args, {
      env: { type: 'string' },
      since: { type: 'string' },
      actor: { type: 'string' },
      sink: { type: 'string' },
      manifest: { type: 'string' },
      json: { type: 'boolean' },
      table: { type: 'string' },
      writer: { type: 'string' },
    });
    const sub = positionals[0];
    if (positionals.length > 1 || (sub !== undefined && sub !== 'verify' && sub !== 'sql')) {
      throw new VaultsmithError('USAGE', `audit: unexpected argument '${positionals[sub === 'verify' || sub === 'sql' ? 1 : 0]}'`, {
        hint: "see 'vaultsmith audit --help'",
      });
    }
    if (sub === 'sql') {
      await write(ctx.stdout, postgresAuditSchemaSql(values.table ?? 'vaultsmith_audit', values.writer));
      return 0;
    }
    const sink = sinkOption(values.sink);
    if (sub === 'verify') {
      const reports = await verifyAuditTrail(ctx, sink, values.manifest);
      if (values.json) await writeJson(ctx, reports);
      for (const report of reports) {
        if (!report.ok) throw new VaultsmithError('CHECK_FAILED', describeBreak(report));
        if (!values.json) await write(ctx.stdout, `${report.location}: ${report.events} events, chain intact\n`);
      }
      return 0;
    }
    const events = await listAudit(
      ctx,
      { env: values.env, actor: values.actor, since: values.since, sink },
      values.manifest,
    );
    if (values.json) {
      await writeJson(ctx, events);
      return 0;
    }
    const rows = events.map((e) => [
      String(e.seq),
      e.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
      e.actor.git_email ? `${e.actor.user} <${e.actor.git_email}>` : e.actor.user,
      e.command,
      e.env ?? '-',
      e.label ?? '-',
      e.error ? `${e.outcome} (${e.error})` : e.outcome,
      e.secrets.length ? e.secrets.join(',') : '-',
    ]);
    if (rows.length === 0) {
      await write(ctx.stdout, 'no audit events match\n');
      return 0;
    }
    await write(ctx.stdout, renderTable(['SEQ', 'TIME', 'ACTOR', 'COMMAND', 'ENV', 'VAULT ID', 'OUTCOME', 'SECRETS'], rows));
    return 0;
  },
};
