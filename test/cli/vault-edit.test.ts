/**
 * `edit`: private temp file, unchanged content not rewritten, failing editor leaves the vault alone,
 * label/mode kept, concurrent edits never silently lose a change.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli } from '../helpers/cli.js';
import { sandbox, type Sandbox } from '../secrets/kit.js';

let box: Sandbox;
let pw: { path: string; password: string };
let shm: string;

before(() => {
  box = sandbox('vaultsmith-edit-');
  pw = box.passwordFile('edit.pass');
  // A private tmp root per test file, so we can check nothing plaintext is left behind.
  shm = join(box.dir, 'shm');
  mkdirSync(shm, { mode: 0o700 });
});
after(() => box.cleanup());

const cli = (argv: string[], env: NodeJS.ProcessEnv = {}) =>
  runCli(argv, { cwd: box.dir, env: { ...box.env, VAULTSMITH_TMPDIR: shm, ...env } });

async function makeVault(name: string, content: string, extra: string[] = []): Promise<string> {
  const p = box.file(name, content, 0o640);
  const r = await cli(['encrypt', p, ...(extra.length ? extra : ['--vault-password-file', pw.path])]);
  assert.equal(r.code, 0, r.stderr);
  return p;
}

async function view(path: string): Promise<string> {
  const r = await cli(['view', path, '--vault-password-file', pw.path]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

function editor(name: string, body: string): string {
  return box.file(name, `#!/bin/sh\n${body}\n`, 0o700);
}

describe('edit', () => {
  test('saves a changed file with the same label, mode and no plaintext left behind', async () => {
    const v = await makeVault('e1.yml', 'password: old\n', ['--vault-id', `prod@${pw.path}`]);
    const log = join(box.dir, 'e1.log');
    const ed = editor('sed-editor.sh', `stat -c '%a' "$1" "$(dirname "$1")" > '${log}'\nsed -i 's/old/new/' "$1"`);
    const r = await cli(['edit', v, '--vault-id', `prod@${pw.path}`], { EDITOR: ed });
    assert.equal(r.code, 0, r.stderr);
    assert.match(box.read(v).toString(), /^\$ANSIBLE_VAULT;1\.2;AES256;prod\n/);
    assert.equal(box.mode(v), 0o640);
    assert.equal(await view(v), 'password: new\n');
    // The editor saw a 0600 file in a 0700 directory under the private root; all of it is gone now.
    assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n'), ['600', '700']);
    assert.deepEqual(readdirSync(shm), []);
    assert.equal(existsSync(`${v}.vaultsmith-lock`), false);
  });

  test('--encrypt-vault-id is accepted (as by ansible-vault edit) and the file keeps its own vault id', async () => {
    const v = await makeVault('e-id.yml', 'id: 1\n', ['--vault-id', `prod@${pw.path}`]);
    const ed = editor('id-editor.sh', 'echo "id: 2" > "$1"');
    const r = await cli(['edit', v, '--vault-id', `prod@${pw.path}`, '--encrypt-vault-id', 'other'], { EDITOR: ed });
    assert.equal(r.code, 0, r.stderr);
    assert.match(box.read(v).toString(), /^\$ANSIBLE_VAULT;1\.2;AES256;prod\n/);
    assert.equal(await view(v), 'id: 2\n');
  });

  test('an editor that deletes its file: a clear error, vault unchanged, nothing created', async () => {
    const v = await makeVault('e-rm.yml', 'stay: 1\n');
    const before = box.read(v);
    const rm = editor('rm-editor.sh', 'rm -f "$1"');
    const r = await cli(['edit', v, '--vault-password-file', pw.path], { EDITOR: rm });
    assert.equal(r.code, 6, r.stderr);
    assert.equal(r.stderr, 'ERROR! the editor removed the file it was given; the vault was left unchanged\n');
    assert.deepEqual(box.read(v), before);
    const c = await cli(['create', 'e-rm-new.yml', '--vault-password-file', pw.path], { EDITOR: rm });
    assert.equal(c.stderr, 'ERROR! the editor removed the file it was given; nothing was created\n');
    assert.equal(existsSync(join(box.dir, 'e-rm-new.yml')), false);
    assert.deepEqual(readdirSync(shm), []);
  });

  test('an unchanged file is not rewritten (same bytes, same salt)', async () => {
    const v = await makeVault('e2.yml', 'same: 1\n');
    const before = box.read(v);
    const r = await cli(['edit', v, '--vault-password-file', pw.path], { EDITOR: 'true' });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(box.read(v), before);
  });

  test('EDITOR is split like a shell command line', async () => {
    const v = await makeVault('e3.yml', 'k: v\n');
    const ed = editor('append-editor.sh', 'printf "%s\\n" "$1" >> "$2"');
    const r = await cli(['edit', v, '--vault-password-file', pw.path], { EDITOR: `'${ed}' 'extra: two words'` });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await view(v), 'k: v\nextra: two words\n');
  });

  test('an editor that exits non-zero leaves the vault unchanged and wipes the plaintext', async () => {
    const v = await makeVault('e4.yml', 'keep: me\n');
    const before = box.read(v);
    const ed = editor('fail-editor.sh', 'echo "changed: yes" > "$1"\nexit 1');
    const r = await cli(['edit', v, '--vault-password-file', pw.path], { EDITOR: ed });
    assert.equal(r.code, 6);
    assert.match(r.stderr, /^ERROR! the editor \(.*fail-editor\.sh\) exited with status 1; the vault was left unchanged\n/);
    assert.deepEqual(box.read(v), before);
    assert.deepEqual(readdirSync(shm), []);
    const missing = await cli(['edit', v, '--vault-password-file', pw.path], { EDITOR: join(box.dir, 'no-such-editor') });
    assert.equal(missing.code, 6);
    assert.match(missing.stderr, /^ERROR! Unable to execute the command ".*no-such-editor .*e4\.yml": ENOENT/);
    assert.deepEqual(box.read(v), before);
    // create: there was no vault to leave unchanged.
    const created = await cli(['create', 'e4-new.yml', '--vault-password-file', pw.path], { EDITOR: ed });
    assert.equal(created.code, 6);
    assert.match(created.stderr, /^ERROR! the editor \(.*fail-editor\.sh\) exited with status 1; nothing was created\n/);
    assert.equal(existsSync(join(box.dir, 'e4-new.yml')), false);
  });

  test('wrong password, plaintext file and missing file fail without touching anything', async () => {
    const v = await makeVault('e5.yml', 'a: 1\n');
    const before = box.read(v);
    const other = box.passwordFile('e5-other.pass');
    const wrong = await cli(['edit', v, '--vault-password-file', other.path], { EDITOR: 'true' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^ERROR! Decryption failed \(no vault secrets were found that could decrypt\)/);
    assert.deepEqual(box.read(v), before);
    const plain = box.file('e5-plain.yml', 'plain: 1\n');
    const notVault = await cli(['edit', plain, '--vault-password-file', pw.path], { EDITOR: 'true' });
    assert.equal(notVault.code, 1);
    assert.match(notVault.stderr, /input is not vault encrypted data/);
    assert.equal(box.read(plain).toString(), 'plain: 1\n');
  });

  test('two concurrent edits: the second is refused while the first holds the lock; the first saves', async () => {
    const v = await makeVault('e6.yml', 'counter: 0\n');
    const go = join(box.dir, 'e6.go');
    const started = join(box.dir, 'e6.started');
    const slow = editor('slow-editor.sh', `touch '${started}'\nwhile [ ! -e '${go}' ]; do sleep 0.05; done\nsed -i 's/0/1/' "$1"`);
    const first = cli(['edit', v, '--vault-password-file', pw.path], { EDITOR: slow });
    for (let i = 0; i < 200 && !existsSync(started); i++) await sleep(25);
    assert.ok(existsSync(started), 'first editor did not start');
    const second = await cli(['edit', v, '--vault-password-file', pw.path], { EDITOR: editor('other.sh', 'sed -i "s/0/2/" "$1"') });
    assert.equal(second.code, 5);
    assert.match(second.stderr, /^ERROR! .*e6\.yml is locked by process \d+/);
    writeFileSync(go, '');
    const r = await first;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await view(v), 'counter: 1\n');
  });

  test('a change on disk during the edit (e.g. by ansible-vault) is kept; our edit is saved encrypted beside it', async () => {
    const v = await makeVault('e7.yml', 'version: mine\n');
    const theirs = await makeVault('e7-theirs.yml', 'version: theirs\n');
    const ed = editor('racing-editor.sh', `cp '${theirs}' '${v}'\nsed -i 's/mine/edited/' "$1"`);
    const r = await cli(['edit', v, '--vault-password-file', pw.path], { EDITOR: ed });
    assert.equal(r.code, 5);
    assert.match(r.stderr, /^ERROR! .*e7\.yml changed on disk while it was being edited; it was not overwritten\nhint: your edit was saved encrypted as .*e7\.yml\.vaultsmith-conflict-/);
    assert.equal(await view(v), 'version: theirs\n');
    const conflict = readdirSync(box.dir).find((n) => n.startsWith('e7.yml.vaultsmith-conflict-'));
    assert.ok(conflict);
    assert.equal(box.mode(conflict), 0o600);
    assert.equal(await view(join(box.dir, conflict)), 'version: edited\n');
    assert.deepEqual(readdirSync(shm), []);
  });
});

