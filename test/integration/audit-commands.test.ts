import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { auditLogIn, readAuditLog } from '../helpers/audit.js';
import { runCli } from '../helpers/cli.js';
import { requireTool } from '../helpers/tools.js';
import { makeGitProject } from '../scan/git-project.js';

const events = readAuditLog;

test('each secret-touching command records one event, with names and never values; verify passes', async (t) => {
  if (!requireTool(t, 'git')) return;
  const p = await makeGitProject();
  try {
    const manifest = {
      version: 1,
      project: 'demo',
      environments: { production: { vault: 'group_vars/vault.yml', vault_id: `production@${p.passwordFile}`, production: true } },
      secrets: { db_password: { generate: 'password' }, api_token: { generate: 'hex' }, db_name: { default: 'senextrader_db' } },
      variables: {
        DATABASE_PASSWORD: { secret: 'db_password', services: ['django'] },
        API_TOKEN: { secret: 'api_token', services: ['django'] },
      },
      services: { django: {} },
    };
    p.write('vaultsmith.yaml', stringify(manifest));
    const env = p.env;
    const log = auditLogIn(env);
    const vaultId = `production@${p.passwordFile}`;
    const newPasswordFile = join(p.outside, 'new_pass');
    const newPassword = randomBytes(20).toString('hex');
    writeFileSync(newPasswordFile, `${newPassword}\n`, { mode: 0o600 });
    const run = async (argv: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
      const r = await runCli(argv, { cwd: p.root, env: { ...env, ...extraEnv } });
      assert.equal(r.code, 0, `${argv[0]}: ${r.stderr}`);
      return r;
    };

    await run(['view', 'group_vars/vault.yml', '--vault-id', vaultId]);
    await run(['decrypt', 'group_vars/vault.yml', '--output', '-', '--vault-id', vaultId]);
    await run(['get', 'production', 'db_password']);
    await run(['set', 'production', 'api_token', '--generate']);
    await run(['env', 'production']);
    await run(['exec', 'production', '--', 'true']);
    await run(['edit', 'group_vars/vault.yml', '--vault-id', vaultId], { EDITOR: 'true' });
    await run(['rekey', 'group_vars/vault.yml', '--vault-id', vaultId, '--new-vault-id', `production@${newPasswordFile}`]);
    const denied = await runCli(['view', 'group_vars/vault.yml', '--vault-id', vaultId], { cwd: p.root, env });
    assert.notEqual(denied.code, 0, 'the old password no longer opens the vault');

    const recorded = events(log);
    const byCommand = new Map(recorded.map((e) => [e.command, e]));
    for (const command of ['view', 'decrypt', 'get', 'set', 'env', 'exec', 'edit', 'rekey']) {
      assert.ok(byCommand.has(command), `no audit event for ${command}: ${recorded.map((e) => e.command).join(', ')}`);
    }
    assert.equal(recorded.filter((e) => e.outcome === 'ok').length, 8);
    const last = recorded[recorded.length - 1]!;
    assert.equal(last.command, 'view');
    assert.equal(last.outcome, 'denied');
    assert.deepEqual(byCommand.get('get')!.secrets, ['db_password']);
    assert.ok(byCommand.get('set')!.secrets.includes('api_token'));
    assert.equal(byCommand.get('get')!.env, 'production');

    const text = readFileSync(log, 'utf8');
    for (const v of [p.values.db_password!, p.values.api_token!, p.password, newPassword]) {
      assert.ok(!text.includes(v), 'a value reached the audit log');
    }
    const verify = await runCli(['audit', 'verify'], { cwd: p.root, env });
    assert.equal(verify.code, 0, verify.stderr);
  } finally {
    p.cleanup();
  }
});

test('a command whose audit sink cannot be written is refused and reveals nothing', async (t) => {
  if (!requireTool(t, 'git')) return;
  const p = await makeGitProject();
  try {
    writeFileSync(join(p.outside, 'blocker'), 'not a directory');
    const env = { ...p.env, VAULTSMITH_AUDIT_LOG: join(p.outside, 'blocker', 'audit.jsonl') };
    for (const argv of [
      ['view', 'group_vars/vault.yml', '--vault-id', `production@${p.passwordFile}`],
      ['get', 'production', 'db_password'],
    ]) {
      const r = await runCli(argv, { cwd: p.root, env });
      assert.equal(r.code, 7, `${argv[0]} must be refused: ${r.stderr}`);
      assert.match(r.stderr, /^ERROR! audit log .*refusing the operation/m);
      assert.ok(!r.stdout.includes(p.values.db_password!), 'nothing revealed');
    }
  } finally {
    p.cleanup();
  }
});
