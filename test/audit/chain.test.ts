import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { abbreviateFileList, listAuditEvents, preflightAudit, recordAudit, secretNamesOf, verifyAudit, withAudit } from '../../src/audit/index.js';
import { isVaultsmithError } from '../../src/errors.js';
import { auditSandbox, readAuditLog } from '../helpers/audit.js';
import { runCli } from '../helpers/cli.js';

function setup() {
  const sandbox = auditSandbox('vs-audit-');
  return { ...sandbox, ctx: { env: sandbox.env, cwd: sandbox.dir } };
}

async function recordFive(ctx: { env: NodeJS.ProcessEnv; cwd: string }) {
  for (const [i, command] of ['view', 'edit', 'get', 'set', 'rekey'].entries()) {
    await recordAudit(ctx, { command, env: 'production', file: 'vault.yml', label: 'prod', secrets: [`key_${i}`], outcome: 'ok' });
  }
}

function lines(log: string): string[] {
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

test('events land in the state directory, chained, with key file 0600 and no values', async () => {
  const s = setup();
  try {
    await recordFive(s.ctx);
    const events = readAuditLog(s.log);
    assert.equal(events.length, 5);
    assert.deepEqual(events.map((e) => e.seq), [1, 2, 3, 4, 5]);
    assert.equal(events[1]!.prev, events[0]!.mac);
    assert.equal(events[0]!.actor.host.length > 0, true);
    assert.equal(events[0]!.version, '0.1.0');
    assert.equal(statSync(join(s.env.XDG_CONFIG_HOME, 'vaultsmith', 'audit.key')).mode & 0o777, 0o600);
    const report = await verifyAudit(s.ctx);
    assert.equal(report.ok, true);
    assert.equal(report.events, 5);
    const filtered = await listAuditEvents(s.ctx, { env: 'production', since: '1h' });
    assert.equal(filtered.length, 5);
    assert.equal((await listAuditEvents(s.ctx, { env: 'staging' })).length, 0);
  } finally {
    s.cleanup();
  }
});

test('audit verify catches an edited, an inserted, a deleted and a truncated event', async () => {
  const s = setup();
  try {
    await recordFive(s.ctx);
    const original = readFileSync(s.log, 'utf8');
    const rows = lines(s.log);
    const cases: Array<[string, string, RegExp]> = [
      ['edited', [rows[0], rows[1]!.replace('"key_1"', '"key_x"'), ...rows.slice(2)].join('\n') + '\n', /event 2 .*MAC mismatch/],
      [
        'inserted',
        (() => {
          const forged = { ...JSON.parse(rows[1]!), seq: 3, command: 'forged' };
          return [rows[0], rows[1], JSON.stringify(forged), ...rows.slice(2)].join('\n') + '\n';
        })(),
        /event 3 .*MAC mismatch/,
      ],
      ['deleted', [rows[0], rows[1], ...rows.slice(3)].join('\n') + '\n', /event 4 .*sequence jumps from 2 to 4/],
      ['truncated (last event removed)', rows.slice(0, 4).join('\n') + '\n', /log truncated/],
      ['truncated (mid-event)', original.slice(0, original.length - 20), /partial last line/],
    ];
    for (const [name, content, expected] of cases) {
      writeFileSync(s.log, content);
      const report = await verifyAudit(s.ctx);
      assert.equal(report.ok, false, name);
      const cli = await runCli(['audit', 'verify'], { cwd: s.dir, env: s.env });
      assert.notEqual(cli.code, 0, name);
      assert.match(cli.stderr + cli.stdout, expected, name);
    }
    writeFileSync(s.log, original);
    const good = await runCli(['audit', 'verify'], { cwd: s.dir, env: s.env });
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /5 events, chain intact/);
  } finally {
    s.cleanup();
  }
});

test('a sink that cannot be written refuses the operation (fail closed)', async () => {
  const s = setup();
  try {
    writeFileSync(join(s.dir, 'not-a-dir'), 'x');
    const ctx = { env: { ...s.env, VAULTSMITH_AUDIT_LOG: join(s.dir, 'not-a-dir', 'audit.jsonl') }, cwd: s.dir };
    await assert.rejects(preflightAudit(ctx), (e) => isVaultsmithError(e) && e.code === 'AUDIT' && /refusing the operation/.test(e.message));
    let ran = false;
    await assert.rejects(
      withAudit(ctx, { command: 'view' }, async () => {
        ran = true;
      }),
      (e) => isVaultsmithError(e) && e.code === 'AUDIT',
    );
    assert.equal(ran, false, 'the audited operation must not run when its sink is broken');
  } finally {
    s.cleanup();
  }
});

test('withAudit records denied outcomes with the error code and the CLI lists them', async () => {
  const s = setup();
  try {
    const { DecryptionFailedError } = await import('../../src/errors.js');
    await assert.rejects(
      withAudit(s.ctx, { command: 'view', env: 'staging', file: 'v.yml' }, async (note) => {
        note.set({ label: 'staging' });
        throw new DecryptionFailedError(['staging'], 'staging');
      }),
    );
    await withAudit(s.ctx, { command: 'get', env: 'staging' }, async (note) => note.set({ secrets: ['db_password'] }));
    const events = readAuditLog(s.log);
    assert.equal(events[0]!.outcome, 'denied');
    assert.equal(events[0]!.error, 'DECRYPT_FAILED');
    assert.equal(events[1]!.outcome, 'ok');
    assert.deepEqual(events[1]!.secrets, ['db_password']);
    const table = await runCli(['audit', '--env', 'staging'], { cwd: s.dir, env: { ...s.env, NO_COLOR: '1' } });
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /denied/);
    assert.match(table.stdout, /db_password/);
    const json = await runCli(['audit', '--json'], { cwd: s.dir, env: s.env });
    assert.equal(JSON.parse(json.stdout).length, 2);
  } finally {
    s.cleanup();
  }
});

test('secretNamesOf lists top-level keys only, never values', () => {
  assert.deepEqual(secretNamesOf('# c\ndb_password: s3cr3t-value\nnested:\n  inner: x\ntoken: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  3132\n'), ['db_password', 'nested', 'token']);
  assert.deepEqual(secretNamesOf(Buffer.from('just text')), []);
  assert.deepEqual(secretNamesOf('<<<<<<< ours\na: 1\n=======\na: 2\n>>>>>>> theirs\n'), ['a']);
});

test('concurrent appends keep one chain; a stale lock of a dead process is taken over', async () => {
  const s = setup();
  try {
    await recordAudit(s.ctx, { command: 'view', outcome: 'ok' });
    writeFileSync(`${s.log}.lock`, '999999999'); // no such pid
    await Promise.all(Array.from({ length: 8 }, (_, i) => recordAudit(s.ctx, { command: `c${i}`, outcome: 'ok' })));
    const report = await verifyAudit(s.ctx);
    assert.equal(report.ok, true, JSON.stringify(report.problem));
    assert.equal(report.events, 9);
  } finally {
    s.cleanup();
  }
});

test('a long file list is recorded as the first 20 files and a count', () => {
  const files = Array.from({ length: 25 }, (_, i) => `v${i}.yml`);
  assert.equal(abbreviateFileList(files.join(', ')), `${files.slice(0, 20).join(', ')} (+5 more)`);
  assert.equal(abbreviateFileList('a.yml, b.yml'), 'a.yml, b.yml');
});

test('a missing audit key next to an existing log is refused, not silently replaced by a new key', async () => {
  const s = setup();
  try {
    await recordFive(s.ctx);
    const keyFile = join(s.env.XDG_CONFIG_HOME, 'vaultsmith', 'audit.key');
    rmSync(keyFile);
    const before = readFileSync(s.log, 'utf8');
    await assert.rejects(preflightAudit(s.ctx), (e) => {
      assert.ok(isVaultsmithError(e) && e.code === 'AUDIT');
      assert.match(e.message, /audit key file .* is missing but the audit log already holds events; refusing the operation/);
      return true;
    });
    await assert.rejects(recordAudit(s.ctx, { command: 'get', outcome: 'ok' }), /is missing but the audit log already holds events/);
    assert.throws(() => statSync(keyFile), /ENOENT/, 'no new key was created');
    assert.equal(readFileSync(s.log, 'utf8'), before, 'the log is unchanged');
  } finally {
    s.cleanup();
  }
});

test('an audit key other than the one that sealed the log is refused before anything is appended', async () => {
  const { appendFileEvent, readFileEvents } = await import('../../src/audit/file-sink.js');
  const { randomBytes } = await import('node:crypto');
  const dir = mkdtempSync(join(tmpdir(), 'vs-audit-key-'));
  try {
    const file = join(dir, 'audit.jsonl');
    const teamKey = randomBytes(32);
    const body = { time: new Date().toISOString(), actor: { user: 'u', uid: 1, host: 'h', git_email: null }, command: 'get', env: 'staging', file: null, label: null, secrets: ['DB_NAME'], outcome: 'ok' as const, error: null, version: 'test' };
    await appendFileEvent(file, teamKey, body);
    const before = readFileSync(file);
    await assert.rejects(appendFileEvent(file, randomBytes(32), body), (e: unknown) => {
      assert.ok(isVaultsmithError(e) && e.code === 'AUDIT', String(e));
      assert.match((e as Error).message, /audit key does not match the key that sealed the last event/);
      return true;
    });
    assert.ok(readFileSync(file).equals(before), 'the log was extended with the wrong key');
    await appendFileEvent(file, teamKey, body);
    assert.equal((await readFileEvents(file)).length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
