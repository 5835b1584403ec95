import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { pgCanLogin, setRoleVerifier } from '../../src/rotate/strategies/postgres.js';
import { runCli } from '../helpers/cli.js';
import { startPostgres, type StartedPostgres } from '../helpers/postgres.js';
import { hasTool, requireTool } from '../helpers/tools.js';
import { ansibleVaultView, faultMatrix, makeProject, readText, type Project, startReconnectingClient } from '../rotate/fixture.js';

const PG_CTL = '/usr/lib/postgresql/15/bin/pg_ctl';
let server: StartedPostgres | undefined;

before(async () => {
  if (!hasTool(PG_CTL)) return;
  server = await startPostgres();
  await admin((c) => c.query('CREATE DATABASE appdb'));
});
after(async () => {
  await server?.stop();
});

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: server!.adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function login(values: Record<string, unknown>) {
  return { host: server!.host, port: server!.port, database: 'appdb', user: String(values.db_user), password: String(values.db_password) };
}

function manifestFor(strategy: Record<string, unknown>) {
  return {
    secrets: {
      db_user: { required: true },
      db_password: { generate: { kind: 'token-urlsafe', bytes: 24 }, rotation: { period: '90d', ...strategy } },
    },
    variables: {
      DB_HOST: { value: server!.host, services: ['web'] },
      DB_PORT: { value: String(server!.port), services: ['web'] },
      DB_NAME: { value: 'appdb', services: ['web'] },
      DB_USER: { secret: 'db_user', services: ['web', 'worker'] },
      DB_PASSWORD: { secret: 'db_password', services: ['worker', 'web'] },
    },
    services: {
      web: { restart: 'echo web >> restarts.log', health: 'test -f restarts.log' },
      worker: { restart: 'echo worker >> restarts.log' },
    },
  };
}

async function singleRoleProject(role: string): Promise<{ project: Project; password: string }> {
  const password = `init-${role}-${Math.random().toString(36).slice(2)}`;
  await admin(async (c) => {
    await c.query(`CREATE ROLE ${c.escapeIdentifier(role)} LOGIN`);
    await setRoleVerifier(c, role, password);
    await c.query(`GRANT CONNECT ON DATABASE appdb TO ${c.escapeIdentifier(role)}`);
  });
  const project = await makeProject(manifestFor({ strategy: 'postgres' }), { db_user: role, db_password: password });
  return { project, password };
}


test('postgres: rotate sets a SCRAM verifier; new password logs in, old does not, server log never sees either', async (t) => {
  if (!requireTool(t, PG_CTL) || !requireTool(t, 'ansible-vault')) return;
  const { project, password: oldPassword } = await singleRoleProject('app_single');
  t.after(() => project.cleanup());
  const r = await runCli(['rotate', 'test', 'db_password', '--json'], { cwd: project.dir, env: project.env });
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { results: Array<{ status: string; strategy: string }> };
  assert.equal(result.results[0]?.status, 'completed');
  assert.ok(!r.stdout.includes(oldPassword), 'JSON output holds no old password');

  const values = ansibleVaultView(project);
  const newPassword = String(values.db_password);
  assert.ok(newPassword !== oldPassword && newPassword.length >= 32, 'vault (read by ansible-vault) holds a new password');
  assert.ok(!r.stdout.includes(newPassword) && !r.stderr.includes(newPassword), 'output holds no new password');
  assert.ok(!('vaultsmith_pending' in values) && !('vaultsmith_previous' in values), 'no rotation state left in the vault');
  assert.equal(await pgCanLogin(login(values)), true, 'new password logs in');
  assert.equal(await pgCanLogin(login({ ...values, db_password: oldPassword })), false, 'old password is refused');

  const log = server!.readLog();
  assert.ok(log.includes('ALTER ROLE "app_single" PASSWORD'), 'the ALTER ROLE statement was logged (log_statement=all)');
  assert.ok(!log.includes(newPassword) && !log.includes(oldPassword), 'the server log holds no plaintext password');
  assert.deepEqual(readText(join(project.dir, 'restarts.log')).trim().split('\n'), ['web', 'worker'], 'services restarted in declared order');

  const audit = readText(join(project.home, 'audit.jsonl'));
  assert.match(audit, /"command":"rotate".*"secrets":\["db_password"\]/, 'an audit event names the rotated secret');
  assert.ok(!audit.includes(newPassword) && !audit.includes(oldPassword), 'the audit trail holds no value');
  const history = JSON.parse(readFileSync(join(project.dir, '.vaultsmith', 'history-test.json'), 'utf8'));
  assert.ok(history.secrets.db_password.lastRotatedAt, 'history records the rotation');
  const again = await runCli(['rotate', 'test', 'db_password', '--dry-run', '--json'], { cwd: project.dir, env: project.env });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).results[0].status, 'dry-run');
});

test('postgres: SIGKILL at every phase boundary, then --resume / --abort, always leaves a working credential', async (t) => {
  if (!requireTool(t, PG_CTL)) return;
  const { project } = await singleRoleProject('app_fault');
  t.after(() => project.cleanup());
  await faultMatrix(
    project,
    'db_password',
    async (values) => assert.equal(await pgCanLogin(login(values)), true, 'the vault credential logs in'),
    assert,
  );
});

test('postgres-alternating: flips between two login roles; a reconnecting client never fails; both fault-tolerant', async (t) => {
  if (!requireTool(t, PG_CTL)) return;
  const firstPassword = `blue-${Math.random().toString(36).slice(2)}`;
  const project = await makeProject(
    manifestFor({ strategy: 'postgres-alternating', roles: ['app_blue', 'app_green'], owner_role: 'app_owner', grace: '1s' }),
    { db_user: 'app_blue', db_password: firstPassword },
  );
  t.after(() => project.cleanup());
  // Setting another role's password needs an administrative login; it comes from the environment.
  project.env.VAULTSMITH_ADMIN_URL = server!.adminUrl;
  const setup = await runCli(['rotate', 'test', 'db_password', '--setup'], { cwd: project.dir, env: project.env });
  assert.equal(setup.code, 0, setup.stderr);
  const roles = await admin((c) => c.query<{ rolname: string; rolcanlogin: boolean }>("SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname IN ('app_blue', 'app_green', 'app_owner') ORDER BY rolname"));
  assert.deepEqual(roles.rows.map((r) => `${r.rolname}:${r.rolcanlogin}`), ['app_blue:true', 'app_green:true', 'app_owner:false']);
  assert.equal(await pgCanLogin(login({ db_user: 'app_blue', db_password: firstPassword })), true, 'set-up gave the role in use the vault password');

  // A client that reconnects in a loop with whatever the vault (the delivered environment) says.
  const client = startReconnectingClient(project, (values) => pgCanLogin(login(values)));
  let counts = { attempts: 0, failures: 0 };
  try {
    const r = await runCli(['rotate', 'test', 'db_password'], { cwd: project.dir, env: project.env });
    assert.equal(r.code, 0, r.stderr);
    const mid = await project.readVault();
    assert.equal(mid.db_user, 'app_green', 'DB_USER flipped to the standby role');
    assert.equal(await pgCanLogin(login({ ...mid, db_user: 'app_blue', db_password: firstPassword })), true, 'old role still works during grace');
    await new Promise((r2) => setTimeout(r2, 1200));
    const fin = await runCli(['rotate', 'test', '--resume'], { cwd: project.dir, env: project.env });
    assert.equal(fin.code, 0, fin.stderr);
    assert.equal(await pgCanLogin(login({ ...mid, db_user: 'app_blue', db_password: firstPassword })), false, 'old role retired after grace');
  } finally {
    counts = await client.stop();
  }
  const { attempts, failures } = counts;
  assert.ok(attempts > 3, `the client kept reconnecting (${attempts} attempts)`);
  assert.equal(failures, 0, 'zero failed logins during the rotation');

  await faultMatrix(
    project,
    'db_password',
    async (values) => assert.equal(await pgCanLogin(login(values)), true, 'the vault credential logs in'),
    assert,
  );
});

test('postgres: a vault credential the server already refuses is reported before anything is stored', async (t) => {
  if (!requireTool(t, PG_CTL)) return;
  const { project } = await singleRoleProject('app_mismatch');
  t.after(() => project.cleanup());
  await admin((c) => setRoleVerifier(c, 'app_mismatch', `changed-behind-our-back-${Date.now()}`));
  const r = await runCli(['rotate', 'test', 'db_password'], { cwd: project.dir, env: project.env });
  assert.equal(r.code, 6);
  assert.match(r.stderr, /^ERROR! the service does not accept the current value of db_password in test; not rotating$/m);
  assert.ok(!('vaultsmith_pending' in (await project.readVault())), 'nothing stored');
  assert.equal(readText(join(project.dir, '.vaultsmith', 'rotation-test.json')), '', 'no journal left');
});

test('postgres: a wrong administrative URL is reported before anything is stored; a retry needs no --abort', async (t) => {
  if (!requireTool(t, PG_CTL)) return;
  const { project } = await singleRoleProject('app_badadmin');
  t.after(() => project.cleanup());
  const wrong = new URL(server!.adminUrl);
  wrong.password = `wrong-${Date.now()}`;
  const r = await runCli(['rotate', 'test', 'db_password'], { cwd: project.dir, env: { ...project.env, VAULTSMITH_ADMIN_URL: wrong.toString() } });
  assert.equal(r.code, 6, r.stderr);
  assert.match(r.stderr, /^ERROR! postgres: the administrative URL was not accepted/m);
  assert.ok(!r.stderr.includes(wrong.password), 'the URL password was printed');
  assert.ok(!('vaultsmith_pending' in (await project.readVault())), 'nothing stored');
  assert.equal(readText(join(project.dir, '.vaultsmith', 'rotation-test.json')), '', 'no journal left');
  const retry = await runCli(['rotate', 'test', 'db_password'], { cwd: project.dir, env: project.env });
  assert.equal(retry.code, 0, retry.stderr);
});
