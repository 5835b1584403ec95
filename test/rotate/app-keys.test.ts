import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateSecret } from '../../src/gen/index.js';
import { runCli } from '../helpers/cli.js';
import { faultMatrix, makeProject, readText } from './fixture.js';

function djangoManifest() {
  return {
    secrets: {
      secret_key: {
        generate: 'django-secret-key',
        rotation: { strategy: 'django-secret-key', period: '90d', grace: '1s', fallbacks_key: 'secret_key_fallbacks' },
      },
      secret_key_fallbacks: { required: false },
    },
    variables: {
      SECRET_KEY: { secret: 'secret_key', services: ['django'] },
      SECRET_KEY_FALLBACKS: { secret: 'secret_key_fallbacks', optional: true, services: ['django'] },
    },
    services: { django: { restart: 'echo restart >> restarts.log' } },
  };
}

test('django-secret-key: the old key moves to SECRET_KEY_FALLBACKS and is dropped after the grace period', async (t) => {
  const oldKey = generateSecret({ kind: 'django-secret-key' });
  const project = await makeProject(djangoManifest(), { secret_key: oldKey });
  t.after(() => project.cleanup());
  const r = await runCli(['rotate', 'test', 'secret_key', '--json'], { cwd: project.dir, env: project.env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).results[0].status, 'in-grace');
  assert.ok(JSON.parse(r.stdout).results[0].steps.includes('restarted django'), '--json steps include the delivery steps');
  const during = await project.readVault();
  assert.ok(during.secret_key !== oldKey && String(during.secret_key).length >= 50, 'a new key is current');
  assert.ok(during.secret_key_fallbacks === oldKey, 'the old key is the first (only) fallback, so no one is logged out');
  assert.ok(!r.stdout.includes(oldKey) && !r.stdout.includes(String(during.secret_key)), 'no key in the output');
  assert.equal(readText(join(project.dir, 'restarts.log')).trim(), 'restart', 'django restarted once on delivery');

  const aborted = await runCli(['rotate', 'test', 'secret_key', '--abort', '--json'], { cwd: project.dir, env: project.env });
  assert.equal(aborted.code, 0, aborted.stderr);
  assert.equal(JSON.parse(aborted.stdout).results[0].status, 'in-grace', '--abort of a delivered rotation completes it but keeps the grace period');
  assert.equal((await project.readVault()).secret_key_fallbacks, oldKey, 'the old key stays a fallback: no one is logged out by --abort');
  const early = await runCli(['rotate', 'test', '--resume', '--json'], { cwd: project.dir, env: project.env });
  assert.equal(JSON.parse(early.stdout).results[0].status, 'in-grace', 'resume before the grace period ends waits');
  await new Promise((r2) => setTimeout(r2, 1100));
  const fin = await runCli(['rotate', 'test', '--resume'], { cwd: project.dir, env: project.env });
  assert.equal(fin.code, 0, fin.stderr);
  const after = await project.readVault();
  assert.equal(after.secret_key_fallbacks, '', 'the old key is dropped from the fallbacks');
  assert.ok(after.secret_key === during.secret_key, 'the new key stays current');
  assert.deepEqual(readText(join(project.dir, 'restarts.log')).trim().split('\n'), ['restart', 'restart'], 'redelivered after dropping the fallback');
  const none = await runCli(['rotate', 'test', 'secret_key', '--resume'], { cwd: project.dir, env: project.env });
  assert.equal(none.code, 0, none.stderr);
  assert.equal(none.stdout, 'no rotation of secret_key in progress in test\n');

  await faultMatrix(
    project,
    'secret_key',
    async (values) => {
      const key = String(values.secret_key);
      assert.ok(key.length >= 50, 'a usable key is current');
      assert.ok(!String(values.secret_key_fallbacks ?? '').split(',').includes(key), 'the current key is not also a fallback');
    },
    assert,
  );
});

test('command strategy: apply/test get the new value on stdin, revert reinstates the current one; SIGKILL-safe', async (t) => {
  const project = await makeProject(
    {
      secrets: {
        api_token: {
          generate: { kind: 'hex', bytes: 16 },
          rotation: {
            strategy: 'command',
            period: '30d',
            // The "service" is a file: apply writes the value, test compares, revert restores.
            apply: 'cat > service-token',
            test: 'cmp -s - service-token',
            revert: 'cat > service-token',
          },
        },
      },
      variables: { API_TOKEN: { secret: 'api_token' } },
    },
    { api_token: 'initial-token-value' },
  );
  t.after(() => project.cleanup());
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(project.dir, 'service-token'), 'initial-token-value');
  const r = await runCli(['rotate', 'test', 'api_token'], { cwd: project.dir, env: project.env });
  assert.equal(r.code, 0, r.stderr);
  const values = await project.readVault();
  assert.match(String(values.api_token), /^[0-9a-f]{32}$/);
  assert.ok(readText(join(project.dir, 'service-token')) === values.api_token, 'the service holds the vault value');

  await faultMatrix(
    project,
    'api_token',
    async (v) => assert.ok(readText(join(project.dir, 'service-token')) === v.api_token, 'the service accepts the vault value'),
    assert,
  );
});

test('manual strategy: rotate refuses with a reminder; status lists it', async (t) => {
  const project = await makeProject(
    {
      secrets: { oauth_secret: { rotation: { strategy: 'manual', period: '365d' } } },
      variables: { OAUTH: { secret: 'oauth_secret' } },
    },
    { oauth_secret: 'issued-elsewhere' },
  );
  t.after(() => project.cleanup());
  const r = await runCli(['rotate', 'test', 'oauth_secret'], { cwd: project.dir, env: project.env });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /rotated manually/);
  assert.ok(!r.stderr.includes('issued-elsewhere'));
  const s = await runCli(['status', 'test', '--json'], { cwd: project.dir, env: project.env });
  assert.equal(JSON.parse(s.stdout)[0].strategy, 'manual');
});

test('a failing phase pauses the rotation with a hint; --abort reverts the service and drops the pending value', async (t) => {
  const project = await makeProject(
    {
      secrets: {
        api_token: {
          generate: { kind: 'hex', bytes: 16 },
          rotation: { strategy: 'command', period: '30d', apply: 'cat > service-token', test: 'echo "service said no" >&2; exit 3', revert: 'cat > service-token' },
        },
      },
      variables: { API_TOKEN: { secret: 'api_token' } },
    },
    { api_token: 'initial-token-value' },
  );
  t.after(() => project.cleanup());
  const dry = await runCli(['rotate', 'test', 'api_token', '--dry-run'], { cwd: project.dir, env: project.env });
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(readText(join(project.dir, 'service-token')), '', 'dry run touches nothing');
  assert.ok(!('vaultsmith_pending' in (await project.readVault())), 'dry run stores nothing');

  const r = await runCli(['rotate', 'test', 'api_token'], { cwd: project.dir, env: project.env });
  assert.equal(r.code, 6, 'external failure exit code');
  assert.match(r.stderr, /^ERROR! rotation test command failed with exit 3: service said no$/m);
  assert.match(r.stderr, /^hint: .*paused after phase apply.*--resume.*--abort/m);
  const paused = await project.readVault();
  assert.ok(typeof (paused.vaultsmith_pending as Record<string, unknown>)?.api_token === 'string', 'the new value is kept as pending');
  assert.ok(readText(join(project.dir, 'service-token')) === (paused.vaultsmith_pending as Record<string, string>).api_token, 'apply ran');

  const abort = await runCli(['rotate', 'test', '--abort'], { cwd: project.dir, env: project.env });
  assert.equal(abort.code, 0, abort.stderr);
  const after = await project.readVault();
  assert.equal(after.api_token, 'initial-token-value');
  assert.ok(!('vaultsmith_pending' in after), 'pending value dropped');
  assert.equal(readText(join(project.dir, 'service-token')), 'initial-token-value', 'revert reinstated the current value');
});

test('the administrative URL is not passed on to apply/test, restart or health commands', async (t) => {
  const adminPassword = generateSecret({ kind: 'hex', bytes: 12 });
  const project = await makeProject(
    {
      secrets: {
        api_token: {
          generate: { kind: 'hex', bytes: 16 },
          rotation: { strategy: 'command', period: '30d', apply: 'cat > service-token; env > apply.env', test: 'cmp -s - service-token' },
        },
      },
      variables: { API_TOKEN: { secret: 'api_token', services: ['api'] } },
      services: { api: { restart: 'env > restart.env', health: 'env > health.env' } },
    },
    { api_token: 'initial-token-value' },
  );
  t.after(() => project.cleanup());
  const env = { ...project.env, VAULTSMITH_ADMIN_URL: `postgres://admin:${adminPassword}@db/postgres` };
  const dry = await runCli(['rotate', 'test', 'api_token', '--dry-run'], { cwd: project.dir, env });
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stderr, /^would apply and test it \(command\), then deliver it: restart api, check api$/m, 'the dry run says what delivery will do');
  assert.match(dry.stderr, /^would retire the old credential at once/m);
  assert.match(dry.stderr, /^note: API_TOKEN is not delivered as a Podman secret; the services' restart commands must pass the new value on/m);
  assert.equal(readText(join(project.dir, 'restart.env')), '', 'the dry run restarted nothing');
  const r = await runCli(['rotate', 'test', 'api_token'], { cwd: project.dir, env });
  assert.equal(r.code, 0, r.stderr);
  for (const file of ['apply.env', 'restart.env', 'health.env']) {
    const seen = readText(join(project.dir, file));
    assert.match(seen, /^PATH=/m, `${file}: the command ran with the caller's environment`);
    assert.ok(!seen.includes(adminPassword) && !seen.includes('VAULTSMITH_ADMIN_URL'), `${file}: no administrative URL`);
  }
});

test('postgres: a generator that could make a non-ASCII password is refused before anything is stored', async (t) => {
  const project = await makeProject(
    {
      secrets: {
        db_password: { generate: { kind: 'password', length: 20, charset: 'abcdéf' }, rotation: { strategy: 'postgres', period: '90d' } },
        db_user: {},
      },
      variables: {
        DB_HOST: { value: '127.0.0.1' },
        DB_PORT: { value: '1' },
        DB_NAME: { value: 'app' },
        DB_USER: { secret: 'db_user' },
        DB_PASSWORD: { secret: 'db_password' },
      },
    },
    { db_password: 'current-password', db_user: 'app' },
  );
  t.after(() => project.cleanup());
  const r = await runCli(['rotate', 'test', 'db_password'], { cwd: project.dir, env: project.env });
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /^ERROR! rotation of db_password: PostgreSQL passwords must be printable ASCII; the generator's charset is not$/m);
  assert.equal(readText(join(project.dir, '.vaultsmith', 'rotation-test.json')), '', 'no journal');
  assert.ok(!('vaultsmith_pending' in (await project.readVault())), 'nothing stored');
});

test('fernet without reencrypt: finishing is refused and the old key kept (data under it stays readable); reencrypt: external finishes', async (t) => {
  const oldKey = generateSecret({ kind: 'fernet' });
  const manifest = (reencrypt?: unknown) => ({
    secrets: {
      field_key: { generate: 'fernet', rotation: { strategy: 'fernet', period: '365d', grace: '1s', ...(reencrypt ? { reencrypt } : {}) } },
    },
    variables: { FIELD_ENCRYPTION_KEY: { secret: 'field_key', services: ['django'] } },
    services: { django: { restart: 'true' } },
  });
  const project = await makeProject(manifest(), { field_key: oldKey });
  t.after(() => project.cleanup());
  assert.equal((await runCli(['rotate', 'test', 'field_key'], { cwd: project.dir, env: project.env })).code, 0);
  const during = String((await project.readVault()).field_key);
  assert.equal(during.split(',')[1], oldKey);
  const refused = await runCli(['rotate', 'test', 'field_key', '--resume', '--finish-now'], { cwd: project.dir, env: project.env });
  assert.equal(refused.code, 3, refused.stderr);
  assert.match(refused.stderr, /^ERROR! .*fernet: finishing would drop the old key of field_key, but the rotation has no reencrypt.*the old key was kept/);
  assert.ok(!refused.stderr.includes(oldKey) && !refused.stdout.includes(oldKey), 'a key was printed');
  assert.equal(String((await project.readVault()).field_key), during, 'the key list changed');
  // The user declares that the application re-encrypts its data itself: finish drops the old key.
  const { readFileSync, writeFileSync } = await import('node:fs');
  const original = readFileSync(project.manifestPath, 'utf8');
  const text = original.replace('grace: 1s', 'grace: 1s\n      reencrypt: external');
  assert.notEqual(text, original, 'the grace line was not found in the manifest');
  writeFileSync(project.manifestPath, text);
  const fin = await runCli(['rotate', 'test', 'field_key', '--resume', '--finish-now'], { cwd: project.dir, env: project.env });
  assert.equal(fin.code, 0, fin.stderr);
  assert.equal(String((await project.readVault()).field_key), during.split(',')[0]);
});
