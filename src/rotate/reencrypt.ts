/**
 * Fernet re-encryption of PostgreSQL columns during a key rotation: rows are rewritten in batches
 * with the key list's first (new) key, progress is kept in the journal (resumable after a crash),
 * and the old key is only dropped once every non-null value decrypts with the new key alone.
 */
import pg from 'pg';
import { VaultsmithError } from '../errors.js';
import { Fernet, fernetFromKeys } from '../fernet/index.js';
import { loginFromContract, PG_QUERY_TIMEOUT_MS } from './strategies/postgres.js';
import { splitKeyList } from './key-list.js';
import type { StrategyContext } from './types.js';

export interface ReencryptColumn {
  table: string;
  column: string;
  /** A unique, ordered column to page by (default `id`). */
  key: string;
}

function columnsOf(ctx: StrategyContext): { columns: ReencryptColumn[]; batch: number } {
  const spec = ctx.spec.reencrypt as { columns?: unknown; batch?: unknown } | undefined;
  const list = Array.isArray(spec?.columns) ? spec.columns : [];
  const columns = list.map((c: unknown) => {
    const o = c as Record<string, unknown>;
    if (typeof o?.table !== 'string' || typeof o?.column !== 'string') {
      throw new VaultsmithError('MANIFEST', `rotation of ${ctx.secretKey}: each reencrypt column needs table and column`);
    }
    return { table: o.table, column: o.column, key: typeof o.key === 'string' ? o.key : 'id' };
  });
  const batch = typeof spec?.batch === 'number' && spec.batch > 0 ? spec.batch : 500;
  return { columns, batch };
}

/** `schema.table` → quoted identifiers. */
function qualified(client: pg.Client, name: string): string {
  return name.split('.').map((part) => client.escapeIdentifier(part)).join('.');
}

function decryptsWith(fernet: Fernet, token: string): boolean {
  try {
    fernet.decrypt(token).fill(0);
    return true;
  } catch {
    return false;
  }
}

export async function reencryptColumns(ctx: StrategyContext, keyList: string, values: Record<string, unknown>): Promise<void> {
  const { columns, batch } = columnsOf(ctx);
  if (columns.length === 0) return;
  const keys = splitKeyList(keyList);
  const primary = new Fernet(keys[0]!);
  const all = fernetFromKeys(keys);
  const client = new pg.Client({
    ...(ctx.adminUrl ? { connectionString: ctx.adminUrl } : loginFromContract(ctx, values)),
    connectionTimeoutMillis: 10000,
    query_timeout: PG_QUERY_TIMEOUT_MS,
  });
  client.on('error', () => undefined);
  const progress = ((ctx.state.reencrypt ??= {}) as Record<string, string>);
  try {
    await client.connect();
    for (const { table, column, key } of columns) {
      const id = `${table}.${column}`;
      const [t, c, k] = [qualified(client, table), client.escapeIdentifier(column), client.escapeIdentifier(key)];
      let rewritten = 0;
      for (;;) {
        const last = progress[id];
        const rows = (
          await client.query<{ k: string; v: string }>(
            `SELECT ${k}::text AS k, ${c} AS v FROM ${t} WHERE ${c} IS NOT NULL ${last === undefined ? '' : `AND ${k} > $2`} ORDER BY ${k} LIMIT $1`,
            last === undefined ? [batch] : [batch, last],
          )
        ).rows;
        if (rows.length === 0) break;
        await client.query('BEGIN');
        for (const row of rows) {
          if (decryptsWith(primary, row.v)) continue;
          // Optimistic: only replace the token we read, so a concurrent application write wins.
          await client.query(`UPDATE ${t} SET ${c} = $1 WHERE ${k}::text = $2 AND ${c} = $3`, [all.rotate(row.v), row.k, row.v]);
          rewritten++;
        }
        await client.query('COMMIT');
        progress[id] = rows[rows.length - 1]!.k;
        await ctx.saveState();
      }
      const left = (await client.query<{ v: string }>(`SELECT ${c} AS v FROM ${t} WHERE ${c} IS NOT NULL`)).rows.filter((r) => !decryptsWith(primary, r.v)).length;
      if (left > 0) {
        delete progress[id];
        await ctx.saveState();
        throw new VaultsmithError('CONFLICT', `fernet: ${left} value(s) in ${id} still need the old key; the old key is kept`, {
          hint: `run 'vaultsmith rotate ${ctx.env} --resume' to re-encrypt them`,
        });
      }
      ctx.log(`fernet: re-encrypted ${rewritten} value(s) in ${id} with the new key`);
    }
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (e instanceof VaultsmithError) throw e;
    throw new VaultsmithError('EXTERNAL', `fernet re-encryption failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`, { cause: e });
  } finally {
    await client.end().catch(() => undefined);
  }
}
