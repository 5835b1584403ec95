import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { auditSandbox, readAuditLog } from '../helpers/audit.js';
import { runCli } from '../helpers/cli.js';

// The environment commands (get, set, unset, env, exec) reveal or change secrets too: each must leave
// one event naming keys only, and must be refused when the audit sink cannot be written.

function project() {
  const sandbox = auditSandbox('vs-audit-cmd-');
  const root = join(sandbox.dir, 'project');
  mkdirSync(root);
  mkdirSync(sandbox.env.HOME!);
  return { ...sandbox, root };
}

const events = readAuditLog;

test('get, set, unset, env and exec each record one event with key names and no value', async () => {
  const p = project();
  try {
    const init = await runCli(['init', '--preset', 'minimal', '--yes'], { cwd: p.root, env: p.env });
    assert.equal(init.code, 0, init.stderr);
    const secretKey = await runCli(['get', 'staging', 'vault_secret_key'], { cwd: p.root, env: p.env });
    assert.equal(secretKey.code, 0, secretKey.stderr);
    const pasted = `pasted-${Date.now()}-value`;
    const set = await runCli(['set', 'staging', 'extra_token', '--value-stdin', '--force'], { cwd: p.root, env: p.env, stdin: `${pasted}\n` });
    assert.equal(set.code, 0, set.stderr);
    assert.equal((await runCli(['env', 'staging'], { cwd: p.root, env: p.env })).code, 0);
    assert.equal((await runCli(['exec', 'staging', '--', 'true'], { cwd: p.root, env: p.env })).code, 0);
    const unset = await runCli(['unset', 'staging', 'extra_token', '--force'], { cwd: p.root, env: p.env });
    assert.equal(unset.code, 0, unset.stderr);

    const recorded = events(p.log);
    const summary = recorded.map((e) => `${e.command} ${e.env} ${e.label} ${e.file} ${e.outcome} ${e.secrets.join(',')}`);
    assert.deepEqual(summary, [
      'get staging staging inventory/staging/group_vars/vault.yml ok vault_secret_key',
      'set staging staging inventory/staging/group_vars/vault.yml ok extra_token',
      'env staging staging inventory/staging/group_vars/vault.yml ok SECRET_KEY',
      'exec staging staging inventory/staging/group_vars/vault.yml ok SECRET_KEY',
      'unset staging staging inventory/staging/group_vars/vault.yml ok extra_token',
    ]);
    const text = readFileSync(p.log, 'utf8');
    const secretValue = secretKey.stdout.trim();
    assert.ok(secretValue.length >= 40);
    assert.equal(text.includes(secretValue), false, 'the secret key value is not in the audit log');
    assert.equal(text.includes(pasted), false, 'the value set is not in the audit log');
    assert.equal((await runCli(['audit', 'verify'], { cwd: p.root, env: p.env })).code, 0);

    // A failed read is recorded as denied, with the error code only.
    writeFileSync(join(p.env.HOME, '.vault_pass_staging'), 'not-the-password\n', { mode: 0o600 });
    const denied = await runCli(['get', 'staging', 'vault_secret_key'], { cwd: p.root, env: p.env });
    assert.notEqual(denied.code, 0);
    const last = events(p.log).at(-1)!;
    assert.equal(last.command, 'get');
    assert.equal(last.outcome, 'denied');
    assert.equal(last.error, 'DECRYPT_FAILED');
  } finally {
    p.cleanup();
  }
});

test('an unwritable audit sink refuses get, set, env and exec before anything is revealed or changed', async () => {
  const p = project();
  try {
    const init = await runCli(['init', '--preset', 'minimal', '--yes'], { cwd: p.root, env: p.env });
    assert.equal(init.code, 0, init.stderr);
    const vault = join(p.root, 'inventory', 'staging', 'group_vars', 'vault.yml');
    const before = readFileSync(vault);
    // The state "directory" is a file: the log cannot be created (root ignores permission bits).
    const blocked = { ...p.env, XDG_STATE_HOME: join(p.dir, 'not-a-dir') };
    writeFileSync(blocked.XDG_STATE_HOME, '');
    const marker = join(p.dir, 'exec-ran');
    const runs: Array<[string[], string | undefined]> = [
      [['get', 'staging', 'vault_secret_key'], undefined],
      [['set', 'staging', 'extra_token', '--value-stdin', '--force'], 'some-new-value-123\n'],
      [['env', 'staging'], undefined],
      [['exec', 'staging', '--', 'touch', marker], undefined],
    ];
    for (const [argv, stdin] of runs) {
      const r = await runCli(argv, { cwd: p.root, env: blocked, stdin });
      assert.equal(r.code, 7, `${argv[0]}: ${r.stderr}`);
      assert.match(r.stderr, /^ERROR! audit log .*refusing the operation$/m);
      assert.equal(r.stdout, '', `${argv[0]} printed nothing`);
    }
    assert.deepEqual(readFileSync(vault), before, 'the vault is unchanged');
    assert.throws(() => readFileSync(marker), /ENOENT/, 'exec did not run the command');
  } finally {
    p.cleanup();
  }
});

test("set of a value starting with '%' prints no YAML warning holding the value on the process stderr", async () => {
  const p = project();
  try {
    const init = await runCli(['init', '--preset', 'minimal', '--yes'], { cwd: p.root, env: p.env });
    assert.equal(init.code, 0, init.stderr);
    // Django keys may start with '%': YAML reads such a line as a directive and warned, quoting it.
    const value = `%${'k'.repeat(20)}-${Date.now()}-percent-directive-lookalike`;
    const bin = join(import.meta.dirname, '..', '..', 'src', 'bin.ts');
    const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), bin, 'set', 'staging', 'vault_secret_key', '--value-stdin', '--force'], {
      cwd: p.root,
      env: p.env,
      input: `${value}\n`,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.includes(value.slice(1, 20)), false, 'the value is not on stderr');
    assert.equal(r.stdout.includes(value.slice(1, 20)), false, 'the value is not on stdout');
  } finally {
    p.cleanup();
  }
});
