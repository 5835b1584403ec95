import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { Fernet, fernetFromKeys } from '../../src/fernet/index.js';
import { setRoleVerifier } from '../../src/rotate/strategies/postgres.js';
import { runCli } from '../helpers/cli.js';
import { startPostgres, type StartedPostgres } from '../helpers/postgres.js';
import { hasTool, requireTool } from '../helpers/tools.js';
import { faultMatrix, makeProject } from '../rotate/fixture.js';

const PG_CTL = '/usr/lib/postgresql/15/bin/pg_ctl';
const ROWS = 23;
let server: StartedPostgres | undefined;
const appPassword = `app-${Math.random().toString(36).slice(2)}`;

before(async () => {
  if (!hasTool(PG_CTL)) return;
  server = await startPostgres({ logStatements: false });
  const c = new pg.Client({ connectionString: server.adminUrl });
  await c.connect();
  await c.query('CREATE ROLE app LOGIN');
  await setRoleVerifier(c, 'app', appPassword);
  await c.query('CREATE DATABASE appdb OWNER app');
  await c.end();
});
after(async () => {
  await server?.stop();
});

async function appQuery<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ host: server!.host, port: server!.port, user: 'app', password: appPassword, database: 'appdb' });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

async function tokens(): Promise<string[]> {
  return (await appQuery<{ token: string }>('SELECT token FROM accounts WHERE token IS NOT NULL ORDER BY id')).map((r) => r.token);
}

test('fernet: new key first in the key list, rows re-encrypted in batches, old key dropped once no row needs it', async (t) => {
  if (!requireTool(t, PG_CTL)) return;
  const oldKey = Fernet.generateKey();
  const old = new Fernet(oldKey);
  await appQuery('CREATE TABLE accounts (id serial PRIMARY KEY, token text)');
  for (let i = 0; i < ROWS; i++) await appQuery('INSERT INTO accounts (token) VALUES ($1)', [i % 5 === 0 ? null : old.encrypt(`oauth-token-${i}`)]);
  const project = await makeProject(
    {
      secrets: {
        field_key: {
          generate: 'fernet',
          rotation: { strategy: 'fernet', period: '365d', grace: '1s', reencrypt: { columns: [{ table: 'accounts', column: 'token' }], batch: 4 } },
        },
        db_password: { required: true },
      },
      variables: {
        FIELD_ENCRYPTION_KEY: { secret: 'field_key', services: ['django'] },
        DB_HOST: { value: server!.host },
        DB_PORT: { value: String(server!.port) },
        DB_NAME: { value: 'appdb' },
        DB_USER: { value: 'app' },
        DB_PASSWORD: { secret: 'db_password' },
      },
      services: { django: { restart: 'true' } },
    },
    { field_key: oldKey, db_password: appPassword },
  );
  t.after(() => project.cleanup());

  const r = await runCli(['rotate', 'test', 'field_key'], { cwd: project.dir, env: project.env });
  assert.equal(r.code, 0, r.stderr);
  const during = await project.readVault();
  const [newKey, second, ...rest] = String(during.field_key).split(',');
  assert.ok(newKey !== oldKey && second === oldKey && rest.length === 0, 'key list is "new,old" during the grace period');

  const fin = await runCli(['rotate', 'test', '--resume', '--finish-now'], { cwd: project.dir, env: project.env });
  assert.equal(fin.code, 0, fin.stderr);
  const after = await project.readVault();
  assert.ok(after.field_key === newKey, 'only the new key is left');
  const fresh = new Fernet(newKey!);
  const all = await tokens();
  assert.equal(all.length, ROWS - Math.ceil(ROWS / 5));
  for (const token of all) assert.match(fresh.decrypt(token).toString(), /^oauth-token-\d+$/, 'every row decrypts with the new key alone');

  // Python's cryptography agrees (interop): decrypt one re-encrypted row with the new key.
  if (hasTool('/usr/bin/python3')) {
    const py = spawnSync('/usr/bin/python3', ['-c', 'import sys; from cryptography.fernet import Fernet; k, tok = sys.stdin.read().split("\\n")[:2]; print(Fernet(k.encode()).decrypt(tok.encode()).decode())'], {
      input: `${newKey}\n${all[0]}\n`,
      encoding: 'utf8',
    });
    assert.equal(py.status, 0, py.stderr);
    assert.match(py.stdout.trim(), /^oauth-token-\d+$/);
  }

  await faultMatrix(
    project,
    'field_key',
    async (values) => {
      const keys = String(values.field_key).split(',');
      assert.equal(keys.length, 1, 'one key after recovery');
      const multi = fernetFromKeys(keys);
      for (const token of await tokens()) multi.decrypt(token).fill(0);
    },
    assert,
  );
});
