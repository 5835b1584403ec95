/**
 * Interoperability with the real ansible-vault (Debian ansible-core 2.14), both directions, and
 * error messages compared side by side. Under CI=true a missing ansible-vault fails these tests.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { requireTool } from '../helpers/tools.js';
import { ansibleLoadYaml, ansibleVault, sandbox, type Sandbox } from '../secrets/kit.js';

const VECTORS = '/work/shared/vectors/ansible';
let box: Sandbox;
let pw: { path: string; password: string };
let other: { path: string; password: string };

before(() => {
  box = sandbox('vaultsmith-interop-');
  pw = box.passwordFile('interop.pass');
  other = box.passwordFile('interop-other.pass');
});
after(() => box.cleanup());

const ours = (argv: string[], stdin?: string) => runCli(argv, { cwd: box.dir, env: box.env, ...(stdin === undefined ? {} : { stdin }) });
const theirs = (args: string[], input?: string) => ansibleVault(args, { cwd: box.dir, env: box.env, ...(input === undefined ? {} : { input }) });

describe('round trips with the real ansible-vault', () => {
  test('ours encrypts (1.1 and labelled 1.2), ansible-vault views both', async (t) => {
    if (!requireTool(t, 'ansible-vault')) return;
    const a = box.file('o-a.yml', 'plain: default id\n');
    const b = box.file('o-b.yml', 'plain: labelled\n');
    assert.equal((await ours(['encrypt', a, '--vault-password-file', pw.path])).code, 0);
    assert.equal((await ours(['encrypt', b, '--vault-id', `prod@${pw.path}`])).code, 0);
    const r = theirs(['view', a, b, '--vault-id', `prod@${pw.path}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'plain: default id\nplain: labelled\n');
  });

  test('ansible-vault encrypts, ours decrypts in place and views', async (t) => {
    if (!requireTool(t, 'ansible-vault')) return;
    const f = box.file('t-a.yml', 'from: ansible\n');
    const r = theirs(['encrypt', f, '--vault-id', `ops@${pw.path}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(box.read(f).toString(), /^\$ANSIBLE_VAULT;1\.2;AES256;ops\n/);
    assert.equal((await ours(['view', f, '--vault-id', `ops@${pw.path}`])).stdout, 'from: ansible\n');
    const d = await ours(['decrypt', f, '--vault-password-file', pw.path]);
    assert.equal(d.code, 0, d.stderr);
    assert.equal(box.read(f).toString(), 'from: ansible\n');
  });

  test("ours encrypt_string output loads in Ansible's DataLoader; Ansible's decrypts with ours", async (t) => {
    if (!requireTool(t, 'ansible-vault')) return;
    const enc = await ours(['encrypt_string', '-n', 'db_password', '-n', 'api_key', 'hunter2', 'k-123', '--vault-password-file', pw.path]);
    assert.equal(enc.code, 0, enc.stderr);
    const vars = box.file('ours-vars.yml', `plain_key: visible\n${enc.stdout}\n`);
    const loaded = ansibleLoadYaml(vars, pw.path);
    assert.equal(loaded.code, 0, loaded.stderr);
    assert.deepEqual(JSON.parse(loaded.stdout), { plain_key: 'visible', db_password: 'hunter2', api_key: 'k-123' });

    const theirsEnc = theirs(['encrypt_string', '--vault-id', `prod@${pw.path}`, '--stdin-name', 'token'], 'from-ansible');
    assert.equal(theirsEnc.code, 0, theirsEnc.stderr);
    const one = await ours(['decrypt-string', '--vault-id', `prod@${pw.path}`], theirsEnc.stdout);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(one.stdout, 'from-ansible');
    const file = box.file('theirs-vars.yml', `# comment kept\n${theirsEnc.stdout}\nother: 1\n`);
    const shown = await ours(['view', file, '--vault-password-file', pw.path]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^# comment kept\ntoken: from-ansible\nother: 1\n$/);
  });

  test('ours rekeys: ansible-vault opens the file with the new password only', async (t) => {
    if (!requireTool(t, 'ansible-vault')) return;
    const f = box.file('rk.yml', 'rotate: me\n');
    theirs(['encrypt', f, '--vault-password-file', pw.path]);
    const r = await ours(['rekey', f, '--vault-password-file', pw.path, '--new-vault-password-file', other.path]);
    assert.equal(r.code, 0, r.stderr);
    const withNew = theirs(['view', f, '--vault-password-file', other.path]);
    assert.equal(withNew.code, 0, withNew.stderr);
    assert.equal(withNew.stdout, 'rotate: me\n');
    const withOld = theirs(['view', f, '--vault-password-file', pw.path]);
    assert.equal(withOld.code, 1);
    assert.match(withOld.stderr, /Decryption failed \(no vault secrets were found that could decrypt\)/);
  });

  test('ours rekeys a big vault as a stream (new label, mode kept): ansible-vault opens it with the new password only', async (t) => {
    if (!requireTool(t, 'ansible-vault')) return;
    // ~4.5 MB of binary plaintext is ~18 MiB of vault text, above the streaming threshold (16 MiB).
    const plaintext = randomBytes(4_500_000 + 7);
    const f = box.file('big-rk.bin', plaintext, 0o640);
    assert.equal(theirs(['encrypt', f, '--vault-password-file', pw.path]).code, 0);
    chmodSync(f, 0o640); // ansible-vault encrypt leaves 0600; a group-readable vault must stay so
    const r = await ours(['rekey', f, '--vault-password-file', pw.path, '--new-vault-id', `fresh@${other.path}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Rekey successful/);
    assert.ok(box.read('big-rk.bin').subarray(0, 40).toString('latin1').startsWith('$ANSIBLE_VAULT;1.2;AES256;fresh\n'));
    assert.equal(box.mode('big-rk.bin'), 0o640);
    const out = join(box.dir, 'big-rk.out');
    const withNew = theirs(['decrypt', f, '--output', out, '--vault-password-file', other.path]);
    assert.equal(withNew.code, 0, withNew.stderr);
    assert.ok(box.read('big-rk.out').equals(plaintext));
    assert.equal(theirs(['view', f, '--vault-password-file', pw.path]).code, 1);
  });

  test('ansible-vault rekeys to a new label: ours opens it with the new password', async (t) => {
    if (!requireTool(t, 'ansible-vault')) return;
    const f = box.file('rk2.yml', 'x: 1\n');
    await ours(['encrypt', f, '--vault-password-file', pw.path]);
    const r = theirs(['rekey', f, '--vault-password-file', pw.path, '--new-vault-id', `new@${other.path}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await ours(['view', f, '--vault-id', `new@${other.path}`])).stdout, 'x: 1\n');
  });

  test("Ansible's own vectors: 1.1, 1.2 with a label, and an encrypted password file", async () => {
    const secret = box.passwordFile('vectors.pass', 'test-vault-password');
    const r = await ours(['view', `${VECTORS}/format_1_1_AES256.yml`, `${VECTORS}/format_1_2_AES256.yml`, '--vault-password-file', secret.path]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'foobar\nfoobar\n');
    const f = box.file('by-encrypted-pass.yml', 'inner: 1\n');
    const inner = ['--vault-id', `outer@${secret.path}`, '--vault-id', `inner@${VECTORS}/encrypted-vault-password`];
    const enc = await ours(['encrypt', f, ...inner, '--encrypt-vault-id', 'inner']);
    assert.equal(enc.code, 0, enc.stderr);
    const plainPass = box.passwordFile('decrypted-inner.pass', 'encrypted-vault-password');
    assert.equal((await ours(['view', f, '--vault-password-file', plainPass.path])).stdout, 'inner: 1\n');
  });
});

describe('file modes side by side with ansible-vault', () => {
  test('decrypting a 0644 vault in place: both leave the plaintext 0600', async (t) => {
    if (!requireTool(t, 'ansible-vault')) return;
    const modeOf = (p: string) => statSync(p).mode & 0o777;
    const [a, b] = ['mode-theirs.yml', 'mode-ours.yml'].map((n) => box.file(n, 'm: 1\n', 0o644)) as [string, string];
    assert.equal(theirs(['encrypt', a, b, '--vault-password-file', pw.path]).code, 0);
    chmodSync(a, 0o644);
    chmodSync(b, 0o644);
    assert.equal(theirs(['decrypt', a, '--vault-password-file', pw.path]).code, 0);
    assert.equal((await ours(['decrypt', b, '--vault-password-file', pw.path])).code, 0);
    assert.deepEqual([box.read(a).toString(), modeOf(a)], ['m: 1\n', 0o600]);
    assert.deepEqual([box.read(b).toString(), modeOf(b)], ['m: 1\n', modeOf(a)]);
  });
});

describe('ansible.cfg side by side with ansible-vault', () => {
  test('vault_password_file from ./ansible.cfg (relative to it): both open the file without any flag', async (t) => {
    if (!requireTool(t, 'ansible-vault')) return;
    const project = join(box.dir, 'cfg-project');
    mkdirSync(join(project, 'secrets'), { recursive: true });
    writeFileSync(join(project, 'secrets', 'pass'), `${pw.password}\n`, { mode: 0o600 });
    writeFileSync(join(project, 'ansible.cfg'), '[defaults]\nvault_password_file = secrets/pass\n');
    const f = box.file('cfg-project/vault.yml', 'from: cfg\n');
    assert.equal((await runCli(['encrypt', 'vault.yml'], { cwd: project, env: box.env })).code, 0);
    const a = ansibleVault(['view', 'vault.yml'], { cwd: project, env: box.env });
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, 'from: cfg\n');
    const o = await runCli(['view', 'vault.yml'], { cwd: project, env: box.env });
    assert.equal(o.code, 0, o.stderr);
    assert.equal(o.stdout, 'from: cfg\n');
    assert.match(box.read(f).toString(), /^\$ANSIBLE_VAULT;1\.1;AES256\n/);
  });
});

describe('edit racing the real ansible-vault', () => {
  test('ansible-vault rekeys the file while we edit: nothing is lost, our edit lands beside it', async (t) => {
    if (!requireTool(t, 'ansible-vault')) return;
    const f = box.file('race.yml', 'value: original\n');
    await ours(['encrypt', f, '--vault-password-file', pw.path]);
    const editor = box.file(
      'race-editor.sh',
      `#!/bin/sh\nansible-vault rekey '${f}' --vault-password-file '${pw.path}' --new-vault-password-file '${other.path}' >/dev/null 2>&1 || exit 9\nsed -i 's/original/ours/' "$1"\n`,
      0o700,
    );
    const r = await runCli(['edit', f, '--vault-password-file', pw.path], { cwd: box.dir, env: { ...box.env, EDITOR: editor } });
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /changed on disk while it was being edited/);
    const theirsNow = theirs(['view', f, '--vault-password-file', other.path]);
    assert.equal(theirsNow.stdout, 'value: original\n');
    const saved = /saved encrypted as (\S+);/.exec(r.stderr)?.[1];
    assert.ok(saved, r.stderr);
    const mine = theirs(['view', saved, '--vault-password-file', pw.path]);
    assert.equal(mine.code, 0, mine.stderr);
    assert.equal(mine.stdout, 'value: ours\n');
  });
});

describe('errors side by side with ansible-vault', () => {
  /** Both fail with exit 1; our first line starts with ansible-vault's message up to `upTo`. */
  async function compare(args: string[], upTo: RegExp, file: string): Promise<void> {
    const before = box.read(file);
    const a = theirs(args);
    const o = await ours(args);
    assert.equal(a.code, 1, a.stderr);
    assert.equal(o.code, 1, o.stderr);
    const theirLine = a.stderr.split('\n').find((l) => l.startsWith('ERROR!'))!;
    const ourLine = o.stderr.split('\n')[0]!;
    const prefix = upTo.exec(theirLine)?.[0];
    assert.ok(prefix, `ansible-vault said: ${theirLine}`);
    assert.ok(ourLine.startsWith(prefix), `ours: ${ourLine}\ntheirs: ${theirLine}`);
    assert.deepEqual(box.read(file), before, 'input changed');
  }

  test('already encrypted, not encrypted, wrong password', async (t) => {
    if (!requireTool(t, 'ansible-vault')) return;
    const v = box.file('cmp-vault.yml', 'a: 1\n');
    await ours(['encrypt', v, '--vault-password-file', pw.path]);
    const p = box.file('cmp-plain.yml', 'a: 1\n');
    await compare(['encrypt', v, '--vault-password-file', pw.path], /^ERROR! input is already encrypted/, v);
    await compare(['decrypt', p, '--vault-password-file', pw.path], /^ERROR! input is not vault encrypted data\. /, p);
    await compare(['view', v, '--vault-password-file', other.path], /^ERROR! Decryption failed \(no vault secrets were found that could decrypt\) on /, v);
  });
});

