import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { promises as fsp, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { podmanBackend, syncLockTarget } from '../../src/services/podman-sync.js';
import { encryptVault } from '../../src/vault/index.js';
import { type IsolatedPodman, makeIsolatedPodman } from '../deliver/podman-store.js';
import { type CliResult, runCli } from '../helpers/cli.js';
import { readAuditLog } from '../helpers/audit.js';
import { hasTool, requireTool, startForeignProcess } from '../helpers/tools.js';

// `vaultsmith podman sync|quadlet` end to end: manifest + encrypted vault + real podman (isolated store).
describe('vaultsmith podman (CLI, manifest, real podman)', { concurrency: false }, () => {
  let store: IsolatedPodman;
  let project = '';
  let passwordDir = '';
  const password = randomBytes(18).toString('base64url');
  const vault: Record<string, string> = {
    vault_db_password: randomBytes(20).toString('base64url'),
    vault_secret_key: `${randomBytes(40).toString('base64')}!#%`,
    vault_redis_password: randomBytes(16).toString('hex'),
    vault_tls_key: `-----BEGIN PRIVATE KEY-----\n${randomBytes(48).toString('base64')}\n-----END PRIVATE KEY-----\n`,
  };
  const everyValue: string[] = [password];
  const outputs: CliResult[] = [];

  const manifest = (withTls: boolean) => `version: 1
project: senex
environments:
  production:
    vault: vault/production.yml
    vault_id: production@${join(passwordDir, 'production.pass')}
secrets:
  vault_db_password: {}
  vault_secret_key: {}
  vault_redis_password: {}
  vault_tls_key: {}
variables:
  DB_PASSWORD:
    services: [django, postgres]
    secret: vault_db_password
    podman: { secret: db_password }
  SECRET_KEY:
    services: [django]
    secret: vault_secret_key
    podman: { secret: django_secret_key }
  REDIS_URL:
    services: [django]
    template: "redis://:{vault_redis_password}@redis:6379/0"
    podman: { secret: redis_url }
  DEBUG:
    services: [django]
    value: "false"
${withTls ? `  TLS_KEY:
    services: [nginx]
    secret: vault_tls_key
    podman: { secret: tls_key, type: mount, target: /run/secrets/tls.key }
` : ''}services:
  django: { unit: django.container }
  postgres: {}
  nginx: {}
`;
  const writeVault = async () => {
    Object.values(vault).forEach((v) => everyValue.push(v));
    const yaml = Object.entries(vault).map(([k, v]) => `${k}: ${JSON.stringify(v)}\n`).join('');
    const text = await encryptVault(yaml, { label: 'production', password: Buffer.from(password) });
    await fsp.writeFile(join(project, 'vault', 'production.yml'), text, { mode: 0o600 });
  };
  const cli = async (...argv: string[]) => {
    const result = await runCli(argv, { cwd: project, env: { ...store.env, XDG_STATE_HOME: join(store.dir, 'state'), NO_COLOR: '1' } });
    outputs.push(result);
    return result;
  };

  before(async () => {
    if (!hasTool('podman')) return;
    store = await makeIsolatedPodman();
    project = await fsp.mkdtemp(join(tmpdir(), 'vaultsmith-podman-project-'));
    passwordDir = await fsp.mkdtemp(join(tmpdir(), 'vaultsmith-podman-pass-'));
    await fsp.writeFile(join(passwordDir, 'production.pass'), `${password}\n`, { mode: 0o600 });
    await fsp.mkdir(join(project, 'vault'));
    await fsp.writeFile(join(project, 'vaultsmith.yaml'), manifest(true));
    await writeVault();
  });
  after(async () => {
    await store?.cleanup();
    if (project) await fsp.rm(project, { recursive: true, force: true });
    if (passwordDir) await fsp.rm(passwordDir, { recursive: true, force: true });
  });

  test('--dry-run prints the plan and creates nothing', async (t) => {
    if (!requireTool(t, 'podman')) return;
    const r = await cli('podman', 'sync', 'production', '--dry-run');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /podman secrets of production via podman CLI - plan \(dry run\):/);
    assert.match(r.stdout, /^db_password\s+create\s+new$/m);
    assert.match(r.stdout, /dry run: nothing was changed/);
    assert.equal(store.secrets().size, 0);
  });

  test('sync delivers every podman secret of the contract, byte for byte, then is a no-op', async (t) => {
    if (!requireTool(t, 'podman')) return;
    const r = await cli('podman', 'sync', 'production');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^result:$/m);
    assert.match(r.stdout, /4 created/);
    assert.deepEqual(store.storedValue('db_password'), Buffer.from(vault.vault_db_password ?? ''));
    assert.deepEqual(store.storedValue('django_secret_key'), Buffer.from(vault.vault_secret_key ?? ''));
    assert.deepEqual(store.storedValue('redis_url'), Buffer.from(`redis://:${vault.vault_redis_password}@redis:6379/0`));
    assert.deepEqual(store.storedValue('tls_key'), Buffer.from(vault.vault_tls_key ?? ''));
    const labels = store.secrets().get('db_password')?.labels ?? {};
    assert.equal(labels['vaultsmith.project'], 'senex');
    assert.equal(labels['vaultsmith.variables'], 'DB_PASSWORD');
    const again = await cli('podman', 'sync', 'production', '--json');
    assert.equal(again.code, 0, again.stderr);
    const report = JSON.parse(again.stdout) as { summary: Record<string, number>; ok: boolean };
    assert.equal(report.ok, true);
    assert.equal(report.summary.unchanged, 4);
    assert.equal((report.summary.create ?? 0) + (report.summary.update ?? 0), 0);
  });

  test('a changed vault value replaces only its secret; --service limits the sync', async (t) => {
    if (!requireTool(t, 'podman')) return;
    const before = store.secrets();
    vault.vault_db_password = randomBytes(20).toString('base64url');
    vault.vault_tls_key = `${vault.vault_tls_key}# rotated ${randomBytes(4).toString('hex')}\n`;
    await writeVault();
    const django = await cli('podman', 'sync', 'production', '--service', 'django', '--json');
    assert.equal(django.code, 0, django.stderr);
    const report = JSON.parse(django.stdout) as { plan: Array<{ name: string; action: string }> };
    assert.deepEqual(report.plan.map((e) => `${e.name}:${e.action}`), ['db_password:update', 'django_secret_key:unchanged', 'redis_url:unchanged']);
    const now = store.secrets();
    assert.equal(now.get('redis_url')?.id, before.get('redis_url')?.id);
    assert.equal(now.get('tls_key')?.id, before.get('tls_key')?.id, 'the nginx secret was not part of --service django');
    assert.deepEqual(store.storedValue('db_password'), Buffer.from(vault.vault_db_password));
    const rest = await cli('podman', 'sync', 'production');
    assert.equal(rest.code, 0, rest.stderr);
    assert.match(rest.stdout, /^tls_key\s+update\s+value changed$/m);
    assert.deepEqual(store.storedValue('tls_key'), Buffer.from(vault.vault_tls_key));
  });

  test('a failed replace exits non-zero with a clear error and keeps the previous value', async (t) => {
    if (!requireTool(t, 'podman')) return;
    const previous = vault.vault_db_password ?? '';
    vault.vault_db_password = randomBytes(20).toString('base64url');
    await writeVault();
    store.failNextCreateOf('db_password');
    const r = await cli('podman', 'sync', 'production');
    assert.equal(r.code, 6, 'EXTERNAL exit code');
    assert.match(r.stderr, /^ERROR! could not replace podman secret 'db_password': podman secret create db_password failed \(exit 125\): injected failure creating db_password; the previous value was put back$/m);
    assert.match(r.stdout, /^db_password\s+update\s+restored\s/m);
    assert.deepEqual(store.storedValue('db_password'), Buffer.from(previous));
    const retry = await cli('podman', 'sync', 'production');
    assert.equal(retry.code, 0, retry.stderr);
    assert.deepEqual(store.storedValue('db_password'), Buffer.from(vault.vault_db_password));
  });

  test('--prune removes a secret the manifest no longer names, and nothing else', async (t) => {
    if (!requireTool(t, 'podman')) return;
    store.podman(['secret', 'create', 'someone_elses', '-'], 'hand-made');
    await fsp.writeFile(join(project, 'vaultsmith.yaml'), manifest(false));
    const kept = await cli('podman', 'sync', 'production');
    assert.equal(kept.code, 0, kept.stderr);
    assert.ok(store.secrets().has('tls_key'), 'no pruning without --prune');
    const pruned = await cli('podman', 'sync', 'production', '--prune');
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.match(pruned.stdout, /^tls_key\s+prune\s+no longer in the contract$/m);
    assert.deepEqual([...store.secrets().keys()].sort(), ['db_password', 'django_secret_key', 'redis_url', 'someone_elses']);
    // nginx lost its only podman secret: a --service sync says so and prunes none of the others'.
    const nginxOnly = await cli('podman', 'sync', 'production', '--service', 'nginx', '--prune');
    assert.equal(nginxOnly.code, 0, nginxOnly.stderr);
    assert.match(nginxOnly.stdout, /^\(the manifest names no podman secrets for service nginx\)\nnothing to do\n$/m);
    assert.deepEqual([...store.secrets().keys()].sort(), ['db_password', 'django_secret_key', 'redis_url', 'someone_elses']);
    await fsp.writeFile(join(project, 'vaultsmith.yaml'), manifest(true));
  });

  test('quadlet prints the Secret= lines and writes a drop-in beside the unit', async (t) => {
    if (!requireTool(t, 'podman')) return;
    const printed = await cli('podman', 'quadlet', 'production', '--service', 'django');
    assert.equal(printed.code, 0, printed.stderr);
    const expected = [
      'Secret=db_password,type=env,target=DB_PASSWORD',
      'Secret=django_secret_key,type=env,target=SECRET_KEY',
      'Secret=redis_url,type=env,target=REDIS_URL',
    ];
    assert.deepEqual(printed.stdout.split('\n').filter((l) => l.startsWith('Secret=')), expected);
    assert.match(printed.stdout, /^\[Container\]$/m);
    const nginx = await cli('podman', 'quadlet', 'production', '--service', 'nginx');
    assert.match(nginx.stdout, /^Secret=tls_key,type=mount,target=\/run\/secrets\/tls\.key,mode=0400$/m);
    const quadletDir = join(store.dir, 'systemd');
    await fsp.mkdir(quadletDir);
    await fsp.writeFile(join(quadletDir, 'django.container'), '[Container]\nImage=example/django\n');
    const written = await cli('podman', 'quadlet', 'production', '--service', 'django', '--write', quadletDir);
    assert.equal(written.code, 0, written.stderr);
    const dropIn = join(quadletDir, 'django.container.d', '50-vaultsmith-secrets.conf');
    assert.equal(written.stdout, `wrote ${dropIn}\n`);
    assert.equal(readFileSync(dropIn, 'utf8'), printed.stdout);
    assert.equal(((await fsp.stat(dropIn)).mode & 0o777).toString(8), '644');
    assert.equal(readFileSync(join(quadletDir, 'django.container'), 'utf8'), '[Container]\nImage=example/django\n', 'unit untouched');
    const again = await cli('podman', 'quadlet', 'production', '--service', 'django', '--write', quadletDir);
    assert.equal(again.stdout, `up to date: ${dropIn}\n`);
    // It opened the vault, so each run is in the audit log (names only).
    const events = readAuditLog(join(store.dir, 'state', 'vaultsmith', 'audit.jsonl'));
    const quadlets = events.filter((e) => e.command === 'podman quadlet');
    assert.equal(quadlets.length, 4);
    assert.deepEqual(quadlets[0]!.secrets, ['db_password', 'django_secret_key', 'redis_url']);
    assert.equal(quadlets[0]!.env, 'production');
  });

  test('--url syncs through podman system service without running the podman CLI', async (t) => {
    if (!requireTool(t, 'podman')) return;
    const socket = join(store.dir, 'api.sock');
    const service = spawn(store.env.VAULTSMITH_TEST_REAL_PODMAN ?? 'podman', ['system', 'service', '--time=30', `unix://${socket}`], {
      env: { ...store.env, PATH: process.env.PATH },
      stdio: 'ignore',
    });
    try {
      for (let i = 0; i < 100 && !existsSync(socket); i++) await sleep(50);
      const cliCalls = store.countCalls('secret');
      vault.vault_secret_key = randomBytes(40).toString('base64');
      await writeVault();
      const r = await cli('podman', 'sync', 'production', '--url', `unix://${socket}`);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`via libpod API at unix://${socket.replace(/[.]/g, '\\.')} - plan:`));
      assert.match(r.stdout, /^django_secret_key\s+update\s+value changed$/m);
      assert.deepEqual(store.storedValue('django_secret_key'), Buffer.from(vault.vault_secret_key));
      assert.equal(store.countCalls('secret'), cliCalls, 'no podman CLI call');
    } finally {
      const exited = once(service, 'exit');
      service.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
    }
  });

  test('a sync already running on the same store is a conflict, not a race', async (t) => {
    if (!requireTool(t, 'podman')) return;
    const target = syncLockTarget(store.env, 'senex', 'production', podmanBackend({}, store.env));
    const holder = startForeignProcess();
    await fsp.writeFile(`${target}.vaultsmith-lock`, `${holder.pid}\n`);
    try {
      const r = await cli('podman', 'sync', 'production');
      assert.equal(r.code, 5);
      assert.match(r.stderr, /^ERROR! .*vaultsmith-podman-sync-[0-9a-f]{16} is locked by process \d+/);
      const dry = await cli('podman', 'sync', 'production', '--dry-run');
      assert.equal(dry.code, 0, 'a dry run takes no lock');
    } finally {
      holder.stop();
      await fsp.rm(`${target}.vaultsmith-lock`, { force: true });
    }
  });

  test('a placeholder about to become a podman secret is named in a warning (never its value)', async (t) => {
    if (!requireTool(t, 'podman')) return;
    const real = vault.vault_secret_key ?? '';
    vault.vault_secret_key = `YOUR-KEY-${randomBytes(6).toString('hex').toUpperCase()}`;
    await writeVault();
    const dry = await cli('podman', 'sync', 'production', '--dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(
      dry.stderr,
      /^warning: podman secret 'django_secret_key' \(SECRET_KEY\) gets placeholder value \(YOUR-\.\.\.\) from vault_secret_key; supply it: vaultsmith set production vault_secret_key --value-stdin$/m,
    );
    assert.ok(!dry.stderr.includes(vault.vault_secret_key ?? ''), 'the placeholder itself is not printed');
    vault.vault_secret_key = real;
    await writeVault();
    const clean = await cli('podman', 'sync', 'production', '--dry-run');
    assert.doesNotMatch(clean.stderr, /warning/, 'a real value gives no warning');
  });

  test('usage errors are one line with a non-zero exit', async (t) => {
    if (!requireTool(t, 'podman')) return;
    const noEnv = await cli('podman', 'sync');
    assert.equal(noEnv.code, 2);
    assert.match(noEnv.stderr, /^ERROR! podman sync: missing ENV/);
    const badEnv = await cli('podman', 'sync', 'nowhere');
    assert.notEqual(badEnv.code, 0);
    assert.match(badEnv.stderr, /^ERROR! unknown environment 'nowhere'/);
    const noService = await cli('podman', 'quadlet', 'production');
    assert.equal(noService.code, 2);
    const help = await cli('podman', '--help');
    assert.match(help.stdout, /Examples:\n {2}vaultsmith podman sync production --dry-run/);
  });

  test('no secret value reached a podman argv or environment, or any output', (t) => {
    if (!requireTool(t, 'podman')) return;
    const log = store.callLog();
    assert.ok(store.countCalls('secret', 'create') >= 6);
    const shown = outputs.map((o) => o.stdout + o.stderr).join('\n');
    for (const value of everyValue) {
      assert.ok(!log.includes(value), 'a secret value appeared in a podman argv or environment');
      assert.ok(!shown.includes(value), 'a secret value appeared in vaultsmith output');
    }
  });
});
