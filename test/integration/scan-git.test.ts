import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { runCli } from '../helpers/cli.js';
import { requireTool } from '../helpers/tools.js';
import { makeGitProject, type GitProject } from '../scan/git-project.js';

function assertNoValues(p: GitProject, text: string) {
  for (const v of [p.values.db_password!, p.values.api_token!, p.password]) assert.ok(!text.includes(v), 'a secret value leaked into output');
}

test('scan finds a pasted secret in plain and base64 form, names file/line/secret, never the value', async (t) => {
  if (!requireTool(t, 'git')) return;
  const p = await makeGitProject();
  try {
    const clean = await runCli(['scan'], { cwd: p.root, env: p.env });
    assert.equal(clean.code, 0, clean.stderr);
    assert.match(clean.stderr, /scanned \d+ files .* files\/s/);

    p.write('config/settings.py', `DEBUG = False\nDATABASES = {"password": "${p.values.db_password}"}\n`);
    p.write('deploy/secret.yaml', `data:\n  token: ${Buffer.from(p.values.api_token!).toString('base64')}\n`);
    p.git('add', 'config/settings.py');
    const r = await runCli(['scan'], { cwd: p.root, env: p.env });
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stdout, /worktree\s+config\/settings\.py:2\s+secret\s+db_password\s+plain/);
    assert.match(r.stdout, /deploy\/secret\.yaml:2\s+secret\s+api_token\s+base64/);
    assert.doesNotMatch(r.stdout, /db_name/, 'non-secret defaults are not searched');
    assert.match(r.stderr, /^ERROR! scan found 2 problems/m);
    assertNoValues(p, r.stdout + r.stderr);

    const json = await runCli(['scan', '--json', 'config'], { cwd: p.root, env: p.env });
    const report = JSON.parse(json.stdout);
    assert.equal(report.findings.length, 1);
    assert.equal(report.findings[0].file, 'config/settings.py');
    assert.ok(report.stats.files >= 1);
    assertNoValues(p, json.stdout);

    // A mistyped PATH is an error, not a clean scan of nothing.
    const typo = await runCli(['scan', 'confg/'], { cwd: p.root, env: p.env });
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /^ERROR! scan: confg\/: no such file or directory$/m);

    // The vault password is a secret too.
    p.write('README.md', `vault password: ${p.password}\n`);
    const pw = await runCli(['scan', '--json', 'README.md'], { cwd: p.root, env: p.env });
    assert.deepEqual(JSON.parse(pw.stdout).findings.map((f: { secret: string }) => f.secret), ['vault password (production)']);
    assertNoValues(p, pw.stdout);
  } finally {
    p.cleanup();
  }
});

test('scan --git-history finds a secret removed three commits ago; the tree scan does not', async (t) => {
  if (!requireTool(t, 'git')) return;
  const p = await makeGitProject();
  try {
    p.write('notes.txt', `temporary: ${p.values.api_token}\n`);
    p.commitAll('add notes');
    const leakCommit = p.git('rev-parse', 'HEAD').trim();
    p.write('notes.txt', 'nothing here\n');
    p.commitAll('remove the token');
    p.write('a.txt', 'a\n');
    p.commitAll('two');
    p.write('b.txt', 'b\n');
    p.commitAll('three');

    const tree = await runCli(['scan'], { cwd: p.root, env: p.env });
    assert.equal(tree.code, 0, tree.stdout + tree.stderr);
    const history = await runCli(['scan', '--git-history', '--json'], { cwd: p.root, env: p.env });
    assert.equal(history.code, 4);
    const findings = JSON.parse(history.stdout).findings;
    assert.equal(findings.length, 1);
    assert.equal(findings[0].where, 'history');
    assert.equal(findings[0].file, 'notes.txt');
    assert.equal(findings[0].secret, 'api_token');
    assert.ok(findings[0].commits.includes(leakCommit));
    assertNoValues(p, history.stdout + history.stderr);
  } finally {
    p.cleanup();
  }
});

test('scan reports unencrypted vaults, password files in the repo, loose permissions and .gitignore gaps', async (t) => {
  if (!requireTool(t, 'git')) return;
  const p = await makeGitProject();
  try {
    p.write('inventory/staging/group_vars/vault.yml', 'vault_db_password: not-encrypted-at-all\n');
    p.write('inventory/inline/vault.yml', 'vault_x: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  3132\n');
    p.write('group_vars/all/secrets.yml', '# moved out of the vault by mistake\nvault_redis_password: hunter2hunter2\n');
    p.write('group_vars/all/vars.yml', 'redis_password: "{{ vault_redis_password }}"\nvault_ref: "{{ other }}"\n');
    p.write('.gitignore', 'node_modules/\n');
    p.write('.vault_pass_staging', 'x\n');
    chmodSync(p.passwordFile, 0o644);
    const r = await runCli(['scan', '--json'], { cwd: p.root, env: p.env });
    assert.equal(r.code, 4);
    const kinds = JSON.parse(r.stdout).findings.map((f: { kind: string; file: string }) => `${f.kind} ${f.file}`);
    assert.ok(kinds.includes('unencrypted-vault inventory/staging/group_vars/vault.yml'), kinds.join('\n'));
    assert.ok(!kinds.some((k: string) => k.includes('inventory/inline')), 'inline !vault values are fine');
    assert.ok(kinds.includes('unencrypted-vault group_vars/all/secrets.yml'), kinds.join('\n'));
    assert.ok(!kinds.some((k: string) => k.includes('vars.yml')), 'references to vault_ variables are fine');
    assert.ok(kinds.includes('password-file-in-repo .vault_pass_staging'), kinds.join('\n'));
    assert.ok(kinds.some((k: string) => k.startsWith('password-file-permissions')), kinds.join('\n'));
    assert.equal(kinds.filter((k: string) => k.startsWith('gitignore-gap')).length, 2, kinds.join('\n'));
    writeFileSync(p.passwordFile, `${p.password}\n`, { mode: 0o600 });
  } finally {
    p.cleanup();
  }
});

test('scan --staged looks only at what the next commit adds, including force-added password files', async (t) => {
  if (!requireTool(t, 'git')) return;
  const p = await makeGitProject();
  try {
    p.write('staged.env.example', `TOKEN=${encodeURIComponent(p.values.db_password!)}\n`);
    p.write('unstaged.txt', `${p.values.api_token}\n`); // in the tree, not staged
    p.write('.vault_pass_staging', 'x\n');
    p.git('add', 'staged.env.example');
    p.git('add', '-f', '.vault_pass_staging');
    const r = await runCli(['scan', '--staged', '--json'], { cwd: p.root, env: p.env });
    assert.equal(r.code, 4);
    const found = JSON.parse(r.stdout).findings.map((f: { where: string; kind: string; file: string }) => `${f.where} ${f.kind} ${f.file}`);
    assert.deepEqual(found.sort(), ['index password-file-in-repo .vault_pass_staging', 'index secret staged.env.example']);
    assertNoValues(p, r.stdout + r.stderr);
  } finally {
    p.cleanup();
  }
});
