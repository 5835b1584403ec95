import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { findConflictMarkers } from '../../src/git/yaml-merge.js';
import { decryptVault, isEncryptedVault } from '../../src/vault/index.js';
import { runCli } from '../helpers/cli.js';
import { requireTool } from '../helpers/tools.js';
import { bundleCliForShell, makeGitProject, type GitProject } from '../scan/git-project.js';

// git runs the drivers and the hook as shell commands: point them at a bundle of this checkout.
let COMMAND = '';
let cleanupBundle = () => undefined as void;
before(async () => {
  const bundle = await bundleCliForShell();
  COMMAND = bundle.command;
  cleanupBundle = bundle.cleanup;
});
after(() => cleanupBundle());

function gitRaw(p: GitProject, args: string[], env: NodeJS.ProcessEnv = p.env) {
  return spawnSync('git', args, { cwd: p.root, env, encoding: 'utf8' });
}

async function decrypted(p: GitProject): Promise<string> {
  const r = await decryptVault(readFileSync(p.vaultPath), [{ label: 'production', password: Buffer.from(p.password) }]);
  return r.plaintext.toString('utf8');
}

async function install(p: GitProject) {
  const r = await runCli(['git', 'install', '--command', COMMAND], { cwd: p.root, env: p.env });
  assert.equal(r.code, 0, r.stderr);
  p.commitAll('vaultsmith git install');
  return r;
}

test('git install is idempotent and the pre-commit hook blocks a commit that adds a secret', async (t) => {
  if (!requireTool(t, 'git')) return;
  const p = await makeGitProject();
  try {
    const first = await install(p);
    assert.match(first.stdout, /changed\s+pre-commit hook/);
    assert.match(readFileSync(`${p.root}/.gitattributes`, 'utf8'), /^group_vars\/vault\.yml diff=vaultsmith merge=vaultsmith$/m);
    assert.equal(p.git('config', 'diff.vaultsmith.cachetextconv').trim(), 'false');
    const second = await runCli(['git', 'install', '--command', COMMAND], { cwd: p.root, env: p.env });
    assert.doesNotMatch(second.stdout, /changed/, 'a second install changes nothing');

    p.write('app/settings.py', `SECRET = "${Buffer.from(p.values.db_password!).toString('base64')}"\n`);
    p.git('add', 'app/settings.py');
    const blocked = gitRaw(p, ['commit', '-m', 'leak']);
    assert.notEqual(blocked.status, 0, 'the commit must be blocked');
    assert.match(blocked.stdout + blocked.stderr, /app\/settings\.py:1\s+secret\s+db_password\s+base64/);
    assert.match(blocked.stderr, /commit blocked/);
    for (const v of [p.values.db_password!, p.password]) assert.ok(!(blocked.stdout + blocked.stderr).includes(v), 'value leaked');

    p.write('app/settings.py', 'SECRET = os.environ["SECRET"]\n');
    p.git('add', 'app/settings.py');
    const ok = gitRaw(p, ['commit', '-m', 'clean']);
    assert.equal(ok.status, 0, ok.stderr);
  } finally {
    p.cleanup();
  }
});

test('git diff of a changed vault shows the changed key with masked values; values only on opt-in', async (t) => {
  if (!requireTool(t, 'git')) return;
  const p = await makeGitProject();
  try {
    await install(p);
    const newToken = randomBytes(20).toString('hex');
    await p.writeVault({ ...p.values, api_token: newToken });
    const diff = gitRaw(p, ['diff', '--', 'group_vars/vault.yml']);
    assert.equal(diff.status, 0, diff.stderr);
    assert.match(diff.stdout, /^-api_token: <masked [0-9a-f]{12}>$/m);
    assert.match(diff.stdout, /^\+api_token: <masked [0-9a-f]{12}>$/m);
    assert.match(diff.stdout, /^ db_password: <masked [0-9a-f]{12}>$/m, 'an unchanged key is context, not a change');
    assert.doesNotMatch(diff.stdout, /\$ANSIBLE_VAULT/);
    for (const v of [newToken, p.values.api_token!, p.values.db_password!]) assert.ok(!diff.stdout.includes(v), 'value leaked into masked diff');

    const shown = gitRaw(p, ['diff', '--', 'group_vars/vault.yml'], { ...p.env, VAULTSMITH_SHOW_VALUES: '1' });
    assert.ok(shown.stdout.includes(`+api_token: ${newToken}`), 'VAULTSMITH_SHOW_VALUES=1 shows the new value');
    const audit = readFileSync(`${p.env.XDG_STATE_HOME}/vaultsmith/audit.jsonl`, 'utf8');
    assert.match(audit, /"command":"git-diff --show-values"/);
    assert.ok(!audit.includes(newToken), 'no value in the audit log');
  } finally {
    p.cleanup();
  }
});

test('merge driver: different keys merge cleanly; the same key yields an encrypted vault with conflict markers', async (t) => {
  if (!requireTool(t, 'git')) return;
  const p = await makeGitProject();
  try {
    await install(p);
    const fresh = () => randomBytes(15).toString('base64url');
    // Clean merge: main changes api_token, feature changes db_password.
    p.git('checkout', '-q', '-b', 'feature');
    const featurePassword = fresh();
    await p.writeVault({ ...p.values, db_password: featurePassword });
    p.commitAll('rotate db password');
    p.git('checkout', '-q', 'main');
    const mainToken = fresh();
    await p.writeVault({ ...p.values, api_token: mainToken });
    p.commitAll('rotate api token');
    const merge = gitRaw(p, ['merge', '--no-edit', 'feature']);
    assert.equal(merge.status, 0, merge.stdout + merge.stderr);
    const merged = parse(await decrypted(p));
    assert.equal(merged.db_password === featurePassword, true, 'feature change kept');
    assert.equal(merged.api_token === mainToken, true, 'main change kept');
    assert.match(readFileSync(p.vaultPath, 'utf8'), /^\$ANSIBLE_VAULT;1\.2;AES256;production\n/);

    // Real conflict: both branches change db_password.
    p.git('checkout', '-q', '-b', 'other');
    await p.writeVault({ ...merged, db_password: fresh() });
    p.commitAll('other password');
    p.git('checkout', '-q', 'main');
    await p.writeVault({ ...merged, db_password: fresh() });
    p.commitAll('main password');
    const conflict = gitRaw(p, ['merge', '--no-edit', 'other']);
    assert.notEqual(conflict.status, 0);
    assert.match(conflict.stdout + conflict.stderr, /conflicting changes to db_password/);
    const raw = readFileSync(p.vaultPath);
    assert.ok(isEncryptedVault(raw), 'the conflicted vault stays encrypted');
    const text = await decrypted(p);
    assert.ok(findConflictMarkers(text).length >= 3);
    assert.match(text, /^api_token: /m, 'non-conflicting keys are merged');
    const check = await runCli(['check'], { cwd: p.root, env: p.env });
    assert.notEqual(check.code, 0, 'check flags the conflicted vault');
    assert.match(check.stdout + check.stderr, /conflict markers/i);
    const view = await runCli(['view', 'group_vars/vault.yml', '--vault-id', `production@${p.passwordFile}`], { cwd: p.root, env: p.env });
    assert.equal(view.code, 0, view.stderr);
    assert.match(view.stderr, /^\[WARNING\]: group_vars\/vault\.yml holds unresolved git merge conflict markers/m);
  } finally {
    p.cleanup();
  }
});
