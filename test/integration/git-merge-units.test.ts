import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { mergeGitattributes, mergeHook } from '../../src/git/install.js';
import { maskLines, maskVaultYaml } from '../../src/git/mask.js';
import { findConflictMarkers, mergeVaultYaml } from '../../src/git/yaml-merge.js';
import { runCli } from '../helpers/cli.js';
import { requireTool } from '../helpers/tools.js';

const base = '# database\ndb_password: old-db\napi_token: old-token\nkeep: same\n';

test('key-wise merge: different keys, deletions, additions, comments of ours kept', () => {
  const ours = '# database\ndb_password: new-db\napi_token: old-token\nkeep: same\nours_added: 1\n';
  const theirs = 'db_password: old-db\napi_token: new-token\ntheirs_added: 2\n'; // theirs deleted `keep`
  const r = mergeVaultYaml(base, ours, theirs);
  assert.deepEqual(r.conflicts, []);
  assert.deepEqual(parse(r.text), { db_password: 'new-db', api_token: 'new-token', ours_added: 1, theirs_added: 2 });
  assert.match(r.text, /^# database\n/);
});

test('same key changed on both sides: conflict blocks after the merged keys, markers found', () => {
  const r = mergeVaultYaml(base, base.replace('old-db', 'ours-db'), base.replace('old-db', 'theirs-db').replace('old-token', 't2'));
  assert.deepEqual(r.conflicts, ['db_password']);
  assert.match(r.text, /^api_token: t2$/m);
  assert.match(r.text, /<<<<<<< ours\n(# database\n)?db_password: ours-db\n\|\|\|\|\|\|\| base\n(# database\n)?db_password: old-db\n=======\n(# database\n)?db_password: theirs-db\n>>>>>>> theirs\n$/);
  assert.equal(findConflictMarkers(r.text).length, 4);
  assert.deepEqual(findConflictMarkers(base), []);
  // modify/delete is a conflict too; both deleting is not
  assert.deepEqual(mergeVaultYaml(base, base.replace('old-db', 'x'), 'api_token: old-token\nkeep: same\n').conflicts, ['db_password']);
  assert.deepEqual(mergeVaultYaml(base, 'keep: same\n', 'keep: same\n').conflicts, []);
});

test('masking keeps keys and comments, hides values, and fingerprints depend on the key', () => {
  const value = randomBytes(12).toString('hex');
  const text = `# comment\ndb_password: ${value}\nnested:\n  inner: ${value}\nblock: |\n  ${value}\n`;
  const masked = maskVaultYaml(text, Buffer.from('k1'));
  assert.ok(!masked.includes(value));
  assert.match(masked, /^# comment$/m);
  assert.match(masked, /^db_password: <masked [0-9a-f]{12}>$/m);
  assert.match(masked, /^  inner: <masked [0-9a-f]{12}>$/m);
  assert.notEqual(maskVaultYaml(text, Buffer.from('k2')), masked);
  const conflicted = maskLines(`<<<<<<< ours\ndb_password: ${value}\n=======\nmulti\n  ${value}\n>>>>>>> theirs\n`, Buffer.from('k'));
  assert.ok(!conflicted.includes(value));
  assert.match(conflicted, /^<<<<<<< ours$/m);
});

test('hook and .gitattributes merging are idempotent and keep foreign content', () => {
  const foreign = '#!/bin/sh\nnpm run lint\n';
  const once = mergeHook(foreign, 'vaultsmith');
  assert.ok(once.startsWith(foreign));
  assert.equal(mergeHook(once, 'vaultsmith'), once);
  const updated = mergeHook(once, 'npx vaultsmith');
  assert.equal(updated.split('vaultsmith pre-commit >>>').length, 2, 'one block only');
  assert.match(updated, /npx vaultsmith scan --staged/);
  const attrs = mergeGitattributes('*.png binary', ['group_vars/vault.yml']);
  assert.equal(attrs, '*.png binary\n# vaultsmith: vault files diff and merge decrypted\ngroup_vars/vault.yml diff=vaultsmith merge=vaultsmith\n');
  assert.equal(mergeGitattributes(attrs, ['group_vars/vault.yml']), attrs);
});

test('git install with nothing to route refuses before writing the hook', async (t) => {
  if (!requireTool(t, 'git')) return;
  const dir = mkdtempSync(join(tmpdir(), 'vs-git-install-'));
  try {
    assert.equal(spawnSync('git', ['init', '-q'], { cwd: dir }).status, 0);
    const r = await runCli(['git', 'install'], { cwd: dir, env: { PATH: process.env.PATH, HOME: dir } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^ERROR! no vault files to set up/m);
    assert.equal(existsSync(join(dir, '.git', 'hooks', 'pre-commit')), false, 'no hook written');
    assert.equal(existsSync(join(dir, '.gitattributes')), false, 'no .gitattributes written');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
