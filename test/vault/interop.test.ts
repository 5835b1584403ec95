// Round trips both ways with the real Ansible: its VaultLib in one python3 process for the many
// generated cases, plus a handful of real `ansible-vault` CLI invocations.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { decryptVault, encryptVault, extractVaultText, formatVaultString } from '../../src/vault/index.js';
import type { VaultSecret } from '../../src/vault/types.js';
import { ansibleLibBatch, ansibleVault, makeTempDir, writePasswordFile, type AnsibleLibCase, type AnsibleLibResult } from '../helpers/ansible.js';
import { hasTool, requireTool } from '../helpers/tools.js';

interface Case {
  name: string;
  plaintext: Buffer;
  password: Buffer;
  label: string | null;
  salt: Buffer;
}

const passwords = [Buffer.from('correct horse battery'), Buffer.from('pässwörd 🔑 ünïcode', 'utf8'), randomBytes(24)];
const labels: (string | null)[] = [null, 'default', 'prod', 'team-a_1.2@x'];
const plaintexts: [string, Buffer][] = [
  ['empty', Buffer.alloc(0)],
  ['15 bytes', randomBytes(15)],
  ['16 bytes', randomBytes(16)],
  ['17 bytes', randomBytes(17)],
  ['binary with NUL bytes', Buffer.concat([Buffer.alloc(5), randomBytes(30), Buffer.alloc(3)])],
  ['non-UTF-8', Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0xa0, 0xa1])],
  ['unicode text', Buffer.from('Grüße, 世界 🔐\nline two\n', 'utf8')],
  ['large (2 MiB)', randomBytes(2 * 1024 * 1024 + 5)],
];
const saltLengths = [32, 32, 32, 16, 7, 1];

const cases: Case[] = plaintexts.map(([name, plaintext], i) => ({
  name,
  plaintext,
  password: passwords[i % passwords.length]!,
  label: labels[i % labels.length]!,
  salt: randomBytes(saltLengths[i % saltLengths.length]!),
}));
const secretOf = (c: Case): VaultSecret => ({ label: c.label ?? 'default', password: c.password });

let ours: string[] = [];
let oursRandomSalt: string[] = [];
let ansibleSameSalt: AnsibleLibResult[] = [];
let ansibleDecryptsOurs: AnsibleLibResult[] = [];
let ansibleRandomSalt: AnsibleLibResult[] = [];
const available = hasTool('python3') && hasTool('ansible-vault');

before(async () => {
  if (!available) return;
  ours = await Promise.all(cases.map((c) => encryptVault(c.plaintext, secretOf(c), { label: c.label, salt: c.salt })));
  oursRandomSalt = await Promise.all(cases.map((c) => encryptVault(c.plaintext, secretOf(c), { label: c.label })));
  const batch: AnsibleLibCase[] = [
    ...cases.map((c): AnsibleLibCase => ({ op: 'encrypt', plaintext: c.plaintext, password: c.password, label: c.label, salt: c.salt })),
    ...cases.map((c, i): AnsibleLibCase => ({ op: 'decrypt', vaultText: oursRandomSalt[i]!, secrets: [{ label: 'other', password: c.password }] })),
    ...cases.map((c): AnsibleLibCase => ({ op: 'encrypt', plaintext: c.plaintext, password: c.password, label: c.label })),
  ];
  const results = await ansibleLibBatch(batch);
  ansibleSameSalt = results.slice(0, cases.length);
  ansibleDecryptsOurs = results.slice(cases.length, 2 * cases.length);
  ansibleRandomSalt = results.slice(2 * cases.length);
});

test('same salt → byte-identical vault text to Ansible (header, double hex, 80 columns, final newline)', (t) => {
  if (!requireTool(t, 'ansible-vault')) return;
  cases.forEach((c, i) => {
    const theirs = ansibleSameSalt[i]!;
    assert.ok(theirs.ok, `${c.name}: ansible failed: ${theirs.ok ? '' : theirs.error}`);
    assert.equal(ours[i], theirs.output.toString('latin1'), `${c.name}: output differs from Ansible's`);
  });
  // The layout Ansible writes, stated directly.
  const lines = ours[7]!.split('\n');
  assert.equal(lines.at(-1), '');
  assert.ok(lines.slice(1, -2).every((l) => l.length === 80));
  assert.ok(lines.at(-2)!.length >= 1 && lines.at(-2)!.length <= 80);
  assert.equal(ours[0]!.split('\n')[0], '$ANSIBLE_VAULT;1.1;AES256');
  assert.equal(ours[1]!.split('\n')[0], '$ANSIBLE_VAULT;1.1;AES256');
  assert.equal(ours[2]!.split('\n')[0], '$ANSIBLE_VAULT;1.2;AES256;prod');
});

test('Ansible decrypts every vault vaultsmith wrote (random salt)', (t) => {
  if (!requireTool(t, 'ansible-vault')) return;
  cases.forEach((c, i) => {
    const result = ansibleDecryptsOurs[i]!;
    assert.ok(result.ok, `${c.name}: ${result.ok ? '' : result.error}`);
    assert.ok(result.output.equals(c.plaintext), `${c.name}: plaintext differs`);
  });
});

test('vaultsmith decrypts every vault Ansible wrote (random salt)', async (t) => {
  if (!requireTool(t, 'ansible-vault')) return;
  for (const [i, c] of cases.entries()) {
    const theirs = ansibleRandomSalt[i]!;
    assert.ok(theirs.ok, `${c.name}: ansible failed`);
    const result = await decryptVault(theirs.output, [{ label: 'x', password: Buffer.from('wrong') }, secretOf(c)]);
    assert.ok(result.plaintext.equals(c.plaintext), `${c.name}: plaintext differs`);
    assert.equal(result.header.label, c.label === 'default' ? null : c.label);
  }
});

test('Ansible writes a non-ASCII label it cannot read back; vaultsmith refuses to write one', async (t) => {
  if (!requireTool(t, 'ansible-vault')) return;
  const password = Buffer.from('pw-unicode-label');
  const [written] = await ansibleLibBatch([{ op: 'encrypt', plaintext: Buffer.from('x'), password, label: 'prød' }]);
  assert.ok(written!.ok);
  const [readBack] = await ansibleLibBatch([{ op: 'decrypt', vaultText: written!.output.toString('latin1'), secrets: [{ label: 'prød', password }] }]);
  assert.ok(!readBack!.ok);
  await assert.rejects(encryptVault('x', { label: 'prød', password }), { code: 'INPUT', message: /only ASCII/ });
});

// --- a handful of real CLI invocations -------------------------------------------------------
let dir = '';
before(async () => {
  dir = await makeTempDir();
});
after(async () => {
  if (dir) await fsp.rm(dir, { recursive: true, force: true });
});

test('ansible-vault CLI: encrypt → vaultsmith decrypt, vaultsmith encrypt → view/decrypt, encrypt_string shape', async (t) => {
  if (!requireTool(t, 'ansible-vault')) return;
  const password = `pw ${randomBytes(6).toString('hex')} ü`;
  const passwordFile = await writePasswordFile(dir, `${password}\n`);
  const secret: VaultSecret = { label: 'ci', password: Buffer.from(password) };
  const plaintext = Buffer.concat([Buffer.from('db_password: '), randomBytes(20), Buffer.from('\n')]);

  const theirsPath = join(dir, 'theirs.yml');
  await fsp.writeFile(theirsPath, plaintext);
  const oursPath = join(dir, 'ours.yml');
  await fsp.writeFile(oursPath, await encryptVault(plaintext, secret));

  const [encrypted, decrypted, viewed, encryptString] = await Promise.all([
    ansibleVault(['encrypt', '--vault-id', `ci@${passwordFile}`, theirsPath]),
    ansibleVault(['decrypt', '--vault-password-file', passwordFile, '--output', '-', oursPath]),
    ansibleVault(['view', '--vault-id', `ci@${passwordFile}`, oursPath], { env: { PATH: process.env.PATH, HOME: process.env.HOME, PAGER: 'cat' } }),
    // The value goes through stdin, never argv.
    ansibleVault(['encrypt_string', '--vault-id', `ci@${passwordFile}`, '--stdin-name', 'db_password'], { input: 'hunter2-not-a-secret' }),
  ]);
  assert.equal(encrypted.code, 0, encrypted.stderr);
  const theirText = await fsp.readFile(theirsPath);
  assert.match(theirText.toString('latin1'), /^\$ANSIBLE_VAULT;1\.2;AES256;ci\n/);
  assert.ok((await decryptVault(theirText, [secret])).plaintext.equals(plaintext));

  assert.equal(decrypted.code, 0, decrypted.stderr);
  assert.ok(decrypted.stdout.equals(plaintext));
  assert.equal(viewed.code, 0, viewed.stderr);
  assert.ok(viewed.stdout.includes(Buffer.from('db_password: ')));

  assert.equal(encryptString.code, 0, encryptString.stderr);
  const printed = encryptString.stdout.toString('utf8');
  const vaultText = extractVaultText(printed);
  assert.equal((await decryptVault(vaultText, [secret])).plaintext.toString(), 'hunter2-not-a-secret');
  // Same shape: name line, 10-space indent, same line lengths, no trailing newline.
  const mine = formatVaultString(await encryptVault('hunter2-not-a-secret', secret), { name: 'db_password' });
  assert.equal(printed.endsWith('\n'), false);
  assert.deepEqual(
    mine.split('\n').map((l) => l.replace(/[0-9a-f]/g, 'h')),
    printed.split('\n').map((l) => l.replace(/[0-9a-f]/g, 'h')),
  );
});
