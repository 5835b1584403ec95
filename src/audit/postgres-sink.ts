import type pg from 'pg';
import { VaultsmithError } from '../errors.js';
import { GENESIS, macMatches, sealEvent, type AuditEvent } from './event.js';
import type { AuditPostgresConfig } from './config.js';

/**
 * The PostgreSQL sink for teams on several machines. The table is append-only twice over: the writing
 * role is granted only SELECT (to read the chain head) and INSERT, and triggers reject UPDATE, DELETE
 * and TRUNCATE even for the owner. `seq` is the primary key, so two writers can never fork the chain.
 */
export function postgresAuditSchemaSql(table: string, writerRole?: string): string {
  assertIdentifier(table);
  const guard = `${table}_append_only`;
  const lines = [
    `CREATE TABLE IF NOT EXISTS ${table} (`,
    `  seq bigint PRIMARY KEY,`,
    `  recorded_at timestamptz NOT NULL DEFAULT now(),`,
    `  event text NOT NULL -- the exact JSON line that was MACed`,
    `);`,
    `CREATE OR REPLACE FUNCTION ${guard}() RETURNS trigger LANGUAGE plpgsql AS $$`,
    `BEGIN RAISE EXCEPTION 'vaultsmith audit table % is append-only', TG_TABLE_NAME; END $$;`,
    `DROP TRIGGER IF EXISTS ${guard}_rows ON ${table};`,
    `CREATE TRIGGER ${guard}_rows BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${guard}();`,
    `DROP TRIGGER IF EXISTS ${guard}_truncate ON ${table};`,
    `CREATE TRIGGER ${guard}_truncate BEFORE TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION ${guard}();`,
    `REVOKE ALL ON ${table} FROM PUBLIC;`,
  ];
  if (writerRole) {
    assertIdentifier(writerRole);
    lines.push(`REVOKE ALL ON ${table} FROM ${writerRole};`, `GRANT SELECT, INSERT ON ${table} TO ${writerRole};`);
  }
  return `${lines.join('\n')}\n`;
}

function assertIdentifier(name: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) {
    throw new VaultsmithError('USAGE', `'${name}' is not a plain SQL identifier`);
  }
}

function sinkError(config: AuditPostgresConfig, what: string, e: unknown): VaultsmithError {
  // pg error messages never include the connection password; the URL itself is never printed.
  const reason = e instanceof Error ? e.message.split('\n')[0] : String(e);
  return new VaultsmithError('AUDIT', `PostgreSQL audit sink (${config.urlEnv}, table ${config.table}): ${what} failed: ${reason}; refusing the operation`, {
    cause: e,
    hint: 'fix the audit sink or disable auditing explicitly with VAULTSMITH_AUDIT=off',
  });
}

async function connect(config: AuditPostgresConfig): Promise<pg.Client> {
  // Loaded on first use: most commands never talk to PostgreSQL, and pg is a large share of start-up.
  const { default: pgModule } = await import('pg');
  const client = new pgModule.Client({ connectionString: config.url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined); // a dropped connection surfaces through the pending query
  try {
    await client.connect();
  } catch (e) {
    await client.end().catch(() => undefined);
    throw sinkError(config, 'connecting', e);
  }
  return client;
}

/** Confirms the sink is reachable and the table readable before an audited operation starts. */
export async function preflightPostgresSink(config: AuditPostgresConfig): Promise<{ hasEvents: boolean }> {
  const client = await connect(config);
  try {
    const head = await client.query(`SELECT seq FROM ${config.table} ORDER BY seq DESC LIMIT 1`);
    const r = await client.query<{ ok: boolean }>(`SELECT has_table_privilege(current_user, $1, 'INSERT') AS ok`, [config.table]);
    if (!r.rows[0]?.ok) throw new Error(`role has no INSERT privilege on ${config.table}`);
    return { hasEvents: head.rows.length > 0 };
  } catch (e) {
    throw e instanceof VaultsmithError ? e : sinkError(config, 'checking', e);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function appendPostgresEvent(
  config: AuditPostgresConfig,
  key: Buffer,
  body: Omit<AuditEvent, 'v' | 'seq' | 'prev' | 'mac'>,
): Promise<AuditEvent> {
  const client = await connect(config);
  try {
    await client.query('BEGIN');
    // Serialises writers on all machines; the primary key would reject a fork anyway.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`vaultsmith-audit:${config.table}`]);
    const last = await client.query<{ event: string }>(`SELECT event FROM ${config.table} ORDER BY seq DESC LIMIT 1`);
    const prev = last.rows[0] ? (JSON.parse(last.rows[0].event) as AuditEvent) : null;
    // As for the file log: never extend a chain sealed with another key.
    if (prev && !macMatches(key, prev)) {
      throw new VaultsmithError('AUDIT', `the audit key does not match the key that sealed the last event in ${config.table}; refusing to extend the log`, {
        hint: "use the team's audit key file (VAULTSMITH_AUDIT_KEY_FILE or audit.key_file)",
      });
    }
    const event = sealEvent(key, body, prev?.seq ?? 0, prev?.mac ?? GENESIS);
    await client.query(`INSERT INTO ${config.table} (seq, event) VALUES ($1, $2)`, [event.seq, JSON.stringify(event)]);
    await client.query('COMMIT');
    return event;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw sinkError(config, 'appending', e);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function readPostgresEvents(config: AuditPostgresConfig): Promise<Array<AuditEvent | { unparsable: string }>> {
  const client = await connect(config);
  try {
    const r = await client.query<{ event: string }>(`SELECT event FROM ${config.table} ORDER BY seq`);
    return r.rows.map((row) => {
      try {
        return JSON.parse(row.event) as AuditEvent;
      } catch {
        return { unparsable: 'row is not valid JSON' };
      }
    });
  } catch (e) {
    throw sinkError(config, 'reading', e);
  } finally {
    await client.end().catch(() => undefined);
  }
}
