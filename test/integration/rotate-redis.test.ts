import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { redisCanLogin, redisPasswordHash } from '../../src/rotate/strategies/redis.js';
import { runCli } from '../helpers/cli.js';
import { startRedis, type StartedRedis } from '../helpers/redis.js';
import { hasTool, requireTool } from '../helpers/tools.js';
import { ansibleVaultView, faultMatrix, makeProject, startReconnectingClient } from '../rotate/fixture.js';

let server: StartedRedis | undefined;
const initialPassword = `init-${Math.random().toString(36).slice(2)}-${Date.now()}`;
const otherPassword = `other-${Math.random().toString(36).slice(2)}`;

before(async () => {
  if (!hasTool('redis-server')) return;
  server = await startRedis({
    aclLines: [
      `user default on #${redisPasswordHash(initialPassword)} ~* &* +@all`,
      `user other on #${redisPasswordHash(otherPassword)} ~* &* +@all`,
    ],
  });
});
after(async () => {
  await server?.stop();
});

const url = (password: string, user = '', db = 0) => `redis://${user}:${encodeURIComponent(password)}@${server!.host}:${server!.port}/${db}`;

function manifest() {
  return {
    settings: { redis_host: server!.host, redis_port: server!.port },
    secrets: {
      redis_password: { generate: 'token-urlsafe', rotation: { strategy: 'redis', period: '90d', grace: '1s' } },
      redis_url: { template: 'redis://:{redis_password}@{redis_host}:{redis_port}/2' },
    },
    variables: {
      REDIS_URL: { template: 'redis://:{redis_password}@{redis_host}:{redis_port}/0', services: ['web', 'worker'] },
      CELERY_BROKER_URL: { secret: 'redis_url', services: ['worker'] },
    },
    services: { web: { restart: 'true' }, worker: { restart: 'true' } },
  };
}

test('redis: ACL dual passwords — both work during the grace period, the old stops after finish; URLs re-derived; zero failed logins', async (t) => {
  if (!requireTool(t, 'redis-server') || !requireTool(t, 'ansible-vault')) return;
  const project = await makeProject(manifest(), {
    redis_password: initialPassword,
    redis_url: `redis://:${initialPassword}@${server!.host}:${server!.port}/2`,
  });
  t.after(() => project.cleanup());

  // A client that reconnects in a loop with whatever the vault (the delivered environment) says.
  const client = startReconnectingClient(project, (values) => redisCanLogin(String(values.redis_url)));
  let counts = { attempts: 0, failures: 0 };
  try {
    const r = await runCli(['rotate', 'test', 'redis_password', '--json'], { cwd: project.dir, env: project.env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).results[0].status, 'in-grace');

    const values = ansibleVaultView(project);
    const newPassword = String(values.redis_password);
    assert.ok(newPassword !== initialPassword && newPassword.length >= 40, 'ansible-vault reads a new password');
    assert.ok(values.redis_url === `redis://:${newPassword}@${server!.host}:${server!.port}/2`, 'the derived broker URL carries the new password');
    assert.equal(await redisCanLogin(url(newPassword)), true, 'new password works');
    assert.equal(await redisCanLogin(url(initialPassword)), true, 'old password still works during the grace period');
    const acl = readFileSync(server!.aclFile, 'utf8');
    assert.ok(acl.includes(redisPasswordHash(newPassword)) && acl.includes(redisPasswordHash(initialPassword)), 'ACL SAVE persisted both hashes');
    assert.ok(!acl.includes(newPassword), 'the ACL file holds hashes, not the password');

    const refused = await runCli(['rotate', 'test', 'redis_password'], { cwd: project.dir, env: project.env });
    assert.equal(refused.code, 5, 'a second rotation is refused during the grace period');
    assert.match(refused.stderr, /already in progress/);

    const status = await runCli(['status', 'test', '--json'], { cwd: project.dir, env: project.env });
    assert.equal(JSON.parse(status.stdout)[0].rotationInProgress, true);

    await new Promise((r2) => setTimeout(r2, 1100));
    const finish = await runCli(['rotate', 'test', '--due', '--json'], { cwd: project.dir, env: project.env });
    assert.equal(finish.code, 0, finish.stderr);
    assert.equal(JSON.parse(finish.stdout).results[0].status, 'completed', '--due finishes a rotation whose grace ended');
    assert.equal(await redisCanLogin(url(initialPassword)), false, 'old password refused after finish');
    assert.equal(await redisCanLogin(url(newPassword)), true, 'new password still works');
    assert.ok(!readFileSync(server!.aclFile, 'utf8').includes(redisPasswordHash(initialPassword)), 'old hash removed from the ACL file');
    assert.equal(await redisCanLogin(url(otherPassword, 'other')), true, "another ACL user's password is untouched (no requirepass)");
    const after = await project.readVault();
    assert.ok(!('vaultsmith_previous' in after) && !('vaultsmith_pending' in after), 'no rotation state left');
  } finally {
    counts = await client.stop();
  }
  const { attempts, failures } = counts;
  assert.ok(attempts > 3, `the client kept reconnecting (${attempts})`);
  assert.equal(failures, 0, 'zero failed logins');

  await faultMatrix(
    project,
    'redis_password',
    async (values) => {
      assert.equal(await redisCanLogin(String(values.redis_url)), true, 'the vault URL logs in');
      const acl = readFileSync(server!.aclFile, 'utf8');
      const hashes = acl.split('\n').find((l) => l.startsWith('user default'))?.match(/#[0-9a-f]{64}/g) ?? [];
      assert.equal(hashes.length, 1, 'exactly one password left for the default user (no leftovers)');
    },
    assert,
  );
});

test('redis without an aclfile: the ACL change is persisted with CONFIG REWRITE into redis.conf', async (t) => {
  if (!requireTool(t, 'redis-server')) return;
  const first = `conf-${Math.random().toString(36).slice(2)}`;
  const local = await startRedis({ useAclFile: false, aclLines: [`user default on #${redisPasswordHash(first)} ~* &* +@all`] });
  t.after(() => local.stop());
  const m = manifest();
  m.settings.redis_port = local.port;
  const project = await makeProject(m, { redis_password: first, redis_url: `redis://:${first}@${local.host}:${local.port}/2` });
  t.after(() => project.cleanup());
  const r = await runCli(['rotate', 'test', 'redis_password', '--finish-now'], { cwd: project.dir, env: project.env });
  assert.equal(r.code, 0, r.stderr);
  const values = await project.readVault();
  const conf = readFileSync(local.confFile, 'utf8');
  assert.ok(conf.includes(redisPasswordHash(String(values.redis_password))), 'redis.conf holds the new hash');
  assert.ok(!conf.includes(redisPasswordHash(first)), 'redis.conf no longer holds the old hash');
  assert.ok(!conf.includes(String(values.redis_password)), 'redis.conf holds no plaintext password');
});
