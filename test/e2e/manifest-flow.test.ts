// The "done when", tried as a new user would: init in an empty directory, check, set, check,
// ansible-vault view, env, exec. Secret values are compared in memory and never printed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { requireTool } from '../helpers/tools.js';
import { decryptVault } from '../../src/vault/index.js';

const PERSON_SUPPLIED = [
  'vault_tastytrade_client_id',
  'vault_tastytrade_client_secret',
  'vault_email_host_password',
  'vault_backup_access_key',
  'vault_backup_secret_key',
];
const GENERATED = ['vault_secret_key', 'vault_field_encryption_key', 'vault_db_password', 'vault_redis_password'];
/** Every variable of the guide's "Environment Variable Reference" table. */
const GUIDE_VARIABLES = [
  'DJANGO_SETTINGS_MODULE', 'SECRET_KEY', 'FIELD_ENCRYPTION_KEY', 'ALLOWED_HOSTS', 'DEBUG',
  'DB_NAME', 'DB_USER', 'DB_PASSWORD', 'DB_HOST', 'DB_PORT',
  'REDIS_URL', 'CELERY_BROKER_URL', 'CELERY_RESULT_BACKEND',
  'TASTYTRADE_CLIENT_ID', 'TASTYTRADE_CLIENT_SECRET', 'TASTYTRADE_BASE_URL',
  'WS_ALLOWED_ORIGINS',
  'EMAIL_HOST', 'EMAIL_PORT', 'EMAIL_HOST_USER', 'EMAIL_HOST_PASSWORD', 'EMAIL_USE_TLS', 'DEFAULT_FROM_EMAIL',
  'SENTRY_DSN',
];

let project = '';
let home = '';
let env: NodeJS.ProcessEnv = {};
const cli = (argv: string[], stdin?: string) => runCli(argv, { cwd: project, env, stdin });
const vaultPath = (e: string) => join(project, 'inventory', e, 'group_vars', 'vault.yml');
const passwordOf = (e: string) => readFileSync(join(home, `.vault_pass_${e}`), 'utf8').trim();

async function plaintextOf(e: string): Promise<string> {
  const { plaintext } = await decryptVault(readFileSync(vaultPath(e)), [{ label: e, password: Buffer.from(passwordOf(e)) }]);
  return plaintext.toString('utf8');
}

before(async () => {
  project = mkdtempSync(join(tmpdir(), 'vs-e2e-project-'));
  home = mkdtempSync(join(tmpdir(), 'vs-e2e-home-'));
  env = { HOME: home, PATH: process.env.PATH, NO_COLOR: '1' };
  const r = await cli(['init', '--preset', 'senex', '--yes']);
  assert.equal(r.code, 0, r.stderr);
});

after(() => {
  rmSync(project, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

test('init writes the manifest, 0600 password files outside the project, .gitignore and labelled vaults', async () => {
  for (const e of ['production', 'staging']) {
    const st = statSync(join(home, `.vault_pass_${e}`));
    assert.equal(st.mode & 0o777, 0o600);
    assert.ok(passwordOf(e).length >= 32);
    assert.match(readFileSync(vaultPath(e), 'utf8'), new RegExp(`^\\$ANSIBLE_VAULT;1\\.2;AES256;${e}\\n`));
  }
  assert.ok(passwordOf('production') !== passwordOf('staging'), 'the two environments must have different passwords');
  assert.match(readFileSync(join(project, '.gitignore'), 'utf8'), /^\.vault_pass_\*$/m);
  // Running init again creates nothing and overwrites nothing.
  const vaultBefore = readFileSync(vaultPath('production'));
  const passBefore = passwordOf('production');
  const again = await cli(['init', '--preset', 'senex', '--yes', '--json']);
  assert.equal(again.code, 0, again.stderr);
  const result = JSON.parse(again.stdout);
  assert.equal(result.manifest, 'kept');
  assert.deepEqual(result.environments.map((x: { vault: string; password: string }) => [x.vault, x.password]), [['kept', 'kept'], ['kept', 'kept']]);
  assert.ok(readFileSync(vaultPath('production')).equals(vaultBefore));
  assert.ok(passwordOf('production') === passBefore);
});

test('the vaults keep the guide layout and generated secrets differ between environments', async () => {
  const production = await plaintextOf('production');
  for (const comment of ['# Django Core', '# Database', '# Redis', '# Celery', '# TastyTrade API', '# Email (optional)', '# Backup Storage (S3-compatible)']) {
    assert.ok(production.includes(`\n${comment}\n`), comment);
  }
  for (const key of GENERATED) {
    const a = await cli(['get', 'production', key]);
    const b = await cli(['get', 'staging', key]);
    assert.equal(a.code, 0);
    assert.ok(a.stdout.length > 20 && a.stdout !== b.stdout, `${key} must be generated independently per environment`);
  }
});

test('check reports exactly the person-supplied placeholders, never a value', async () => {
  const r = await cli(['check', '--json']);
  assert.equal(r.code, 4);
  const findings = JSON.parse(r.stdout) as { env: string; key: string; kind: string }[];
  assert.deepEqual(
    findings.map((f) => `${f.env} ${f.key} ${f.kind}`).sort(),
    ['production', 'staging'].flatMap((e) => PERSON_SUPPLIED.map((k) => `${e} ${k} placeholder`)).sort(),
  );
  const table = await cli(['check']);
  assert.equal(table.code, 4);
  assert.match(table.stdout, /^ENV\s+KEY\s+FINDING\s+SEVERITY\s+DETAIL$/m);
  assert.match(table.stderr, /^ERROR! check found 10 error\(s\)/);
  const redis = (await cli(['get', 'production', 'vault_redis_password'])).stdout.trim();
  assert.ok(!table.stdout.includes(redis) && !r.stdout.includes(redis), 'check output must not contain values');
});

test('set refuses invalid values and leaves the vault untouched', async () => {
  const before = readFileSync(vaultPath('production'));
  const cases: [string[], string | undefined, RegExp][] = [
    [['set', 'production', 'vault_field_encryption_key', '--value-stdin'], 'not-a-fernet-key\n', /is not a Fernet key/],
    [['set', 'production', 'vault_tastytrade_client_id', '--value-stdin'], 'YOUR-CLIENT-ID\n', /placeholder/],
    [['set', 'production', 'vault_db_password', '--value-stdin'], 'short\n', /strength/],
    [['set', 'production', 'vault_redis_url', '--value-stdin'], 'redis://:x@redis:6379\n', /derived from its template/],
    [['set', 'production', 'vault_not_declared', '--value-stdin'], 'x\n', /not declared/],
    [['set', 'production', 'vault_tastytrade_client_id', '--generate'], undefined, /has no generator/],
    [['set', 'production', 'vault_db_password'], undefined, /exactly one of/],
  ];
  for (const [argv, stdin, message] of cases) {
    const r = await cli(argv, stdin);
    assert.notEqual(r.code, 0, argv.join(' '));
    assert.match(r.stderr, message);
    assert.match(r.stderr, /^ERROR! /);
  }
  assert.ok(readFileSync(vaultPath('production')).equals(before));
});

test('after setting the placeholders check passes; set keeps comments and order', async () => {
  const keysBefore = (await plaintextOf('production')).split('\n').filter((l) => /^\w+:/.test(l)).map((l) => l.split(':')[0]);
  for (const e of ['production', 'staging']) {
    for (const key of PERSON_SUPPLIED) {
      const r = await cli(['set', e, key, '--value-stdin'], `${key}-${randomBytes(12).toString('hex')}\n`);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `updated ${key} in ${e}\n`);
    }
  }
  const r = await cli(['check']);
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /^OK production, staging: 0 errors, 0 warnings$/m);
  const text = await plaintextOf('production');
  const keysAfter = text.split('\n').filter((l) => /^\w+:/.test(l)).map((l) => l.split(':')[0]);
  assert.deepEqual(keysAfter, keysBefore);
  assert.ok(text.includes('\n# TastyTrade API\n'));
});

test('the real ansible-vault opens both vaults with the created password files', async (t) => {
  if (!requireTool(t, 'ansible-vault')) return;
  for (const e of ['production', 'staging']) {
    const r = spawnSync('ansible-vault', ['view', vaultPath(e), '--vault-id', `${e}@~/.vault_pass_${e}`], {
      env: { PATH: process.env.PATH, HOME: home, ANSIBLE_LOCAL_TEMP: join(home, '.ansible-tmp') },
      cwd: project,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, `ansible-vault view ${e} failed: ${r.stderr}`);
    assert.ok(r.stdout === (await plaintextOf(e)), `ansible-vault shows different plaintext for ${e}`);
  }
});

test('env production --format json has the whole guide table, one Redis password everywhere', async () => {
  let r = await cli(['env', 'production', '--format', 'json']);
  assert.equal(r.code, 0, r.stderr);
  let vars = JSON.parse(r.stdout) as Record<string, string>;
  assert.deepEqual(GUIDE_VARIABLES.filter((v) => !(v in vars)), ['SENTRY_DSN'], 'only the unset optional SENTRY_DSN may be absent');
  const set = await cli(['set', 'production', 'vault_sentry_dsn', '--value-stdin'], `https://${randomBytes(8).toString('hex')}@o1.ingest.sentry.io/42\n`);
  assert.equal(set.code, 0, set.stderr);

  // Changing the Redis password re-renders the URLs stored in the vault.
  const rotate = await cli(['set', 'production', 'vault_redis_password', '--generate']);
  assert.equal(rotate.code, 0, rotate.stderr);
  assert.match(rotate.stdout, /also updated vault_redis_url, vault_celery_broker_url, vault_celery_result_backend/);
  r = await cli(['env', 'production', '--format', 'json']);
  vars = JSON.parse(r.stdout) as Record<string, string>;
  assert.deepEqual(GUIDE_VARIABLES.filter((v) => !(v in vars)), []);
  const password = vars.REDIS_PASSWORD!;
  for (const [name, db] of [['REDIS_URL', '/0'], ['CELERY_BROKER_URL', '/2'], ['CELERY_RESULT_BACKEND', '/3']] as const) {
    assert.ok(vars[name] === `redis://:${password}@redis:6379${db}`, `${name} must carry the current Redis password`);
  }
  assert.equal(vars.DEBUG, 'False');
  assert.equal(vars.DJANGO_SETTINGS_MODULE, 'senextrader.settings.production');
  assert.equal((await cli(['check', 'production'])).code, 0);

  const masked = await cli(['env', 'production', '--service', 'django', '--mask']);
  assert.match(masked.stdout, /^REDIS_URL='redis:\/\/:\*\*\*\*@redis:6379\/0'$/m);
  assert.match(masked.stdout, /^SECRET_KEY='\*\*\*\*'$/m);
  assert.ok(!masked.stdout.includes(password));
  const beat = JSON.parse((await cli(['env', 'staging', '--service', 'celery-beat', '--format', 'json'])).stdout);
  assert.ok(!('ALLOWED_HOSTS' in beat) && 'SECRET_KEY' in beat);
});

test('shell output round-trips through sh; unknown env and service are usage errors', async () => {
  const r = await cli(['env', 'production', '--format', 'shell']);
  const script = join(home, 'env.sh');
  writeFileSync(script, r.stdout, { mode: 0o600 });
  const sh = spawnSync('sh', ['-c', '. "$0" && printf %s "$SECRET_KEY"', script], { encoding: 'utf8', env: { PATH: process.env.PATH } });
  const expected = (await cli(['get', 'production', 'vault_secret_key'])).stdout.replace(/\n$/, '');
  assert.ok(sh.stdout === expected, 'SECRET_KEY must survive shell quoting');
  const systemd = await cli(['env', 'production', '--format', 'systemd', '--service', 'celery-beat']);
  assert.match(systemd.stdout, /^Environment="DEBUG=False"$/m);
  assert.equal((await cli(['env', 'qa'])).code, 2);
  assert.match((await cli(['env', 'production', '--service', 'nginx'])).stderr, /unknown service 'nginx'/);
});

test('exec passes exactly the rendered variables and the exit code', async () => {
  const expectedUrl = (await cli(['get', 'production', 'REDIS_URL'])).stdout.trim();
  const child = `
    const ok = process.env.REDIS_URL === process.env.EXPECTED && process.env.PATH !== undefined && !process.argv.join(' ').includes(process.env.REDIS_URL);
    process.stdout.write(ok ? 'variables ok' : 'variables wrong');
    process.exit(7);`;
  const r = await runCli(['exec', 'production', '--service', 'django', '--', process.execPath, '-e', child], {
    cwd: project,
    env: { ...env, EXPECTED: expectedUrl },
  });
  assert.equal(r.code, 7);
  assert.equal(r.stdout, 'variables ok');
  const missing = await cli(['exec', 'production', '--', 'no-such-command-vaultsmith']);
  assert.equal(missing.code, 127, 'not found: 127, as sh and env report it');
  assert.match(missing.stderr, /^ERROR! cannot run no-such-command-vaultsmith: command not found$/m);
  const notExecutable = join(project, 'not-executable.sh');
  writeFileSync(notExecutable, 'echo never\n', { mode: 0o644 });
  const denied = await cli(['exec', 'production', '--', notExecutable]);
  assert.equal(denied.code, 126, 'cannot run: 126');
  assert.match(denied.stderr, /cannot run .*not-executable\.sh: permission denied/);
});

test('unset: required keys are refused, optional ones removed', async () => {
  const refused = await cli(['unset', 'production', 'vault_db_password']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /required by the manifest/);
  const ok = await cli(['unset', 'production', 'vault_sentry_dsn']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.ok(!(await plaintextOf('production')).includes('vault_sentry_dsn'));
  assert.match((await cli(['unset', 'production', 'vault_sentry_dsn'])).stderr, /is not set/);
});

test('unset of the first key of a group keeps the group comment and every other byte', async () => {
  // assert.ok on comparisons of plaintext: a failure must not print the vault's secrets.
  const before = await plaintextOf('staging');
  assert.ok(/# Email \(optional\)\nvault_email_host: smtp\.gmail\.com\n/.test(before), 'the Email group starts with vault_email_host');
  const r = await cli(['unset', 'staging', 'vault_email_host']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok((await plaintextOf('staging')) === before.replace('vault_email_host: smtp.gmail.com\n', ''), 'only the vault_email_host line is gone');
});

test('check: an old Redis password left in a URL is reported', async () => {
  const old = (await cli(['get', 'production', 'vault_redis_password'])).stdout.trim();
  await cli(['set', 'production', 'vault_redis_password', '--generate']);
  const forced = await cli(['set', 'production', 'vault_celery_broker_url', '--value-stdin', '--force'], `redis://:${old}@redis:6379/2\n`);
  assert.equal(forced.code, 0, forced.stderr);
  const r = await cli(['check', 'production', '--json']);
  assert.equal(r.code, 4);
  assert.deepEqual((JSON.parse(r.stdout) as { key: string; kind: string }[]).map((f) => `${f.key}:${f.kind}`), ['vault_celery_broker_url:template-mismatch']);
  assert.ok(!r.stdout.includes(old));
});

test('a Redis password with URL delimiters: percent-encoded by the preset, refused by a raw template', async () => {
  const password = `${randomBytes(12).toString('base64url')}@/#%:?${randomBytes(12).toString('base64url')}`;
  const ok = await cli(['set', 'staging', 'vault_redis_password', '--value-stdin'], `${password}\n`);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal((await cli(['check', 'staging'])).code, 0);
  const rendered = JSON.parse((await cli(['env', 'staging', '--format', 'json'])).stdout) as Record<string, string>;
  for (const name of ['REDIS_URL', 'CELERY_BROKER_URL', 'CELERY_RESULT_BACKEND']) {
    const url = new URL(rendered[name]!);
    assert.equal(url.hostname, 'redis', name);
    assert.equal(decodeURIComponent(url.password), password, `${name} carries the password`);
  }
  // A manifest whose template inserts the password as is: the value is refused, the vault untouched.
  const manifestPath = join(project, 'vaultsmith.yaml');
  const manifest = readFileSync(manifestPath, 'utf8');
  const vaultBytes = readFileSync(vaultPath('staging'));
  try {
    writeFileSync(manifestPath, manifest.replaceAll('{vault_redis_password|url}', '{vault_redis_password}'));
    const refused = await cli(['set', 'staging', 'vault_redis_password', '--value-stdin'], `${password}x\n`);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /refusing to store this value for vault_redis_password: the derived vault_redis_url is not a valid URL/);
    assert.ok(!refused.stderr.includes(password));
    assert.deepEqual(readFileSync(vaultPath('staging')), vaultBytes);
  } finally {
    writeFileSync(manifestPath, manifest);
  }
});

test('set keeps a number a number only when it prints back the same (0587 stays a string)', async () => {
  assert.equal((await cli(['set', 'staging', 'vault_email_port', '--value-stdin'], '0587\n')).code, 0);
  assert.equal((await cli(['get', 'staging', 'vault_email_port'])).stdout, '0587\n');
  // assert.ok, not assert.match: a failure must not print the vault's plaintext.
  assert.ok(/^vault_email_port: "0587"$/m.test(await plaintextOf('staging')), 'the port is stored as the string "0587"');
});

test('set --value-stdin on a terminal reads one line without echoing it', async (t) => {
  if (!requireTool(t, 'script')) return;
  const { spawn } = await import('node:child_process');
  const value = `tty-${randomBytes(12).toString('hex')}`;
  const cliPath = join(process.cwd(), 'dist', 'cli.js');
  const proc = spawn('script', ['-qec', `'${process.execPath}' '${cliPath}' set staging vault_tastytrade_client_id --value-stdin`, '/dev/null'], {
    cwd: project,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let screen = '';
  let typed = false;
  const code = await new Promise<number | null>((resolve) => {
    proc.stdout.on('data', (d: Buffer) => {
      screen += d.toString();
      // Type once the prompt is up, as a person would: input that arrives before the terminal is
      // switched to no-echo (just after the prompt is written) is echoed by the terminal itself.
      if (!typed && screen.includes('(input hidden)')) {
        typed = true;
        setTimeout(() => proc.stdin.write(`${value}\r`), 300);
      }
    });
    proc.on('close', (c) => resolve(c));
  });
  assert.equal(code, 0, 'set on a terminal failed');
  assert.match(screen, /New value for vault_tastytrade_client_id in staging \(input hidden\)/);
  assert.ok(!screen.includes(value), 'the typed value must not be echoed');
  const got = await cli(['get', 'staging', 'vault_tastytrade_client_id']);
  assert.ok(got.stdout === `${value}\n`, 'the typed value was stored');
});

test('exec forwards SIGTERM to the command and exits with its status', async () => {
  const { spawn } = await import('node:child_process');
  const child = `process.on('SIGTERM', () => { process.stdout.write(' got-TERM'); process.exit(43); });
    process.stdout.write('ready'); setInterval(() => {}, 1000);`;
  // Run from the repository (where tsx resolves) with --manifest pointing at the project.
  const argv = ['--import', 'tsx', join('src', 'bin.ts'), 'exec', 'staging', '--manifest', join(project, 'vaultsmith.yaml')];
  const proc = spawn(process.execPath, [...argv, '--', process.execPath, '-e', child], {
    cwd: process.cwd(),
    env: { ...env, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const code = await new Promise<number | null>((resolve) => {
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out === 'ready') proc.kill('SIGTERM');
    });
    proc.on('close', (c) => resolve(c));
  });
  assert.equal(out, 'ready got-TERM');
  assert.equal(code, 43);
});
