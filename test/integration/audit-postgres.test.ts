import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { postgresAuditSchemaSql, preflightAudit, recordAudit, verifyAudit } from '../../src/audit/index.js';
import { isVaultsmithError } from '../../src/errors.js';
import { runCli } from '../helpers/cli.js';
import { freePort, startPostgres } from '../helpers/postgres.js';
import { requireTool } from '../helpers/tools.js';

test('PostgreSQL sink: chained inserts by an INSERT-only role, UPDATE/DELETE refused, failing sink refuses', async (t) => {
  if (!requireTool(t, '/usr/lib/postgresql/15/bin/pg_ctl')) return;
  const server = await startPostgres({ logStatements: false });
  const dir = mkdtempSync(join(tmpdir(), 'vs-audit-pg-'));
  try {
    const admin = new pg.Client({ connectionString: server.adminUrl });
    await admin.connect();
    const writerPassword = randomBytes(16).toString('hex');
    await admin.query(`CREATE ROLE vs_audit_writer LOGIN PASSWORD '${writerPassword}'`);
    await admin.query(postgresAuditSchemaSql('vaultsmith_audit', 'vs_audit_writer'));
    const writerUrl = `postgres://vs_audit_writer:${writerPassword}@${server.host}:${server.port}/postgres`;
    const env = {
      PATH: process.env.PATH,
      HOME: join(dir, 'home'),
      XDG_CONFIG_HOME: join(dir, 'config'),
      VAULTSMITH_AUDIT_DATABASE_URL: writerUrl,
    };
    const ctx = { env, cwd: dir };

    await preflightAudit(ctx);
    // Concurrent writers must not fork the chain.
    await Promise.all(
      ['view', 'get', 'set', 'env'].map((command) => recordAudit(ctx, { command, env: 'production', secrets: ['db_password'], outcome: 'ok' })),
    );
    const report = await verifyAudit(ctx, { sink: 'postgres' });
    assert.equal(report.ok, true, JSON.stringify(report.problem));
    assert.equal(report.events, 4);
    const listed = await runCli(['audit', '--sink', 'postgres', '--json'], { cwd: dir, env });
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(JSON.parse(listed.stdout).map((e: { seq: number }) => e.seq), [1, 2, 3, 4]);

    const writer = new pg.Client({ connectionString: writerUrl });
    await writer.connect();
    try {
      await assert.rejects(writer.query(`UPDATE vaultsmith_audit SET event = '{}' WHERE seq = 2`), /permission denied/);
      await assert.rejects(writer.query('DELETE FROM vaultsmith_audit WHERE seq = 1'), /permission denied/);
      await assert.rejects(writer.query('TRUNCATE vaultsmith_audit'), /permission denied/);
    } finally {
      await writer.end();
    }
    // Even the owner is stopped by the append-only triggers.
    await assert.rejects(admin.query(`UPDATE vaultsmith_audit SET event = '{}' WHERE seq = 2`), /append-only/);
    await assert.rejects(admin.query('DELETE FROM vaultsmith_audit'), /append-only/);

    const verified = await runCli(['audit', 'verify'], { cwd: dir, env });
    assert.equal(verified.code, 0, verified.stderr);
    assert.match(verified.stdout, /table vaultsmith_audit: 4 events, chain intact/);
    // A superuser who bypasses the triggers still cannot forge the MAC: verify names the event.
    await admin.query('ALTER TABLE vaultsmith_audit DISABLE TRIGGER USER');
    await admin.query(`UPDATE vaultsmith_audit SET event = replace(event, '"outcome":"ok"', '"outcome":"denied"') WHERE seq = 3`);
    await admin.query('ALTER TABLE vaultsmith_audit ENABLE TRIGGER USER');
    const tampered = await runCli(['audit', 'verify'], { cwd: dir, env });
    assert.equal(tampered.code, 4);
    assert.match(tampered.stderr, /audit chain broken at event 3 \(row 3\).*MAC mismatch/);

    // A sink that cannot be reached refuses the operation.
    const deadPort = await freePort();
    const broken = { env: { ...env, VAULTSMITH_AUDIT_DATABASE_URL: `postgres://vs_audit_writer:${writerPassword}@127.0.0.1:${deadPort}/postgres` }, cwd: dir };
    await assert.rejects(preflightAudit(broken), (e) => {
      assert.ok(isVaultsmithError(e) && e.code === 'AUDIT');
      assert.doesNotMatch(e.message, new RegExp(writerPassword));
      return true;
    });
    await admin.end();
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
