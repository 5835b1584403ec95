// Known-good vectors from ansible-core's own test tree (/work/shared/vectors/ansible/README.md).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseDocument } from 'yaml';
import { DecryptionFailedError } from '../../src/errors.js';
import { decryptInlineYaml, decryptVault, parseVaultEnvelope, VaultEncryptedValue, vaultYamlTag } from '../../src/vault/index.js';

const VECTORS = '/work/shared/vectors/ansible/';
const read = (name: string) => readFileSync(VECTORS + name, 'utf8');
const secret = (password: string, label = 'default') => ({ label, password: Buffer.from(password) });
const testVaultPassword = secret('test-vault-password');
const exampleSecrets = [1, 2, 3].map((n) => secret(read(`example${n}_password`).trim(), `example${n}`));

test('format 1.1 vector decrypts to "foobar\\n" with a 1.1 header', async () => {
  const result = await decryptVault(read('format_1_1_AES256.yml'), [testVaultPassword]);
  assert.equal(result.plaintext.toString('utf8'), 'foobar\n');
  assert.deepEqual(result.header, { version: '1.1', cipher: 'AES256', label: null });
});

test('format 1.2 vector carries its label and decrypts with a differently-labelled secret', async () => {
  const result = await decryptVault(read('format_1_2_AES256.yml'), [secret('test-vault-password', 'other')]);
  assert.equal(result.plaintext.toString('utf8'), 'foobar\n');
  assert.deepEqual(result.header, { version: '1.2', cipher: 'AES256', label: 'test_vault_id' });
  assert.equal(result.secret.label, 'other');
});

test('the secret whose label matches the header is the one used when several fit', async () => {
  const a = secret('wrong', 'first');
  const b = secret('test-vault-password', 'test_vault_id');
  const result = await decryptVault(read('format_1_2_AES256.yml'), [a, secret('test-vault-password', 'zzz'), b]);
  assert.equal(result.secret, b);
});

test('encrypted-vault-password vector', async () => {
  const result = await decryptVault(readFileSync(VECTORS + 'encrypted-vault-password'), [testVaultPassword]);
  assert.equal(result.plaintext.toString('utf8'), 'encrypted-vault-password\n');
});

test('a wrong password gives DecryptionFailedError naming labels, never the password', async () => {
  await assert.rejects(decryptVault(read('format_1_2_AES256.yml'), [secret('nope-secret-xyz', 'dev')], { source: 'f.yml' }), (e: unknown) => {
    assert.ok(e instanceof DecryptionFailedError);
    assert.deepEqual(e.triedLabels, ['dev']);
    assert.equal(e.fileLabel, 'test_vault_id');
    assert.match(e.message, /on f\.yml/);
    assert.doesNotMatch(e.message, /nope-secret-xyz/);
    return true;
  });
});

test('embedded vars: both inline values decrypt to "Setec Astronomy" (with and without newline)', async () => {
  const text = read('roles_test_vault_embedded_vars_main.yml');
  const doc = parseDocument(text, { customTags: [vaultYamlTag] });
  const values = doc.toJS() as Record<string, VaultEncryptedValue>;
  assert.ok(values.vault_encrypted_var instanceof VaultEncryptedValue);
  const multi = await decryptVault(values.vault_encrypted_var.vaultText, [testVaultPassword]);
  const single = await decryptVault(values.vault_encrypted_one_line_var!.vaultText, [testVaultPassword]);
  assert.equal(multi.plaintext.toString(), 'Setec Astronomy\n');
  assert.equal(single.plaintext.toString(), 'Setec Astronomy');

  const plain = parseDocument(await decryptInlineYaml(text, [testVaultPassword])).toJS();
  assert.deepEqual(plain, { vault_encrypted_var: 'Setec Astronomy\n', vault_encrypted_one_line_var: 'Setec Astronomy' });
  assert.match(await decryptInlineYaml(text, [testVaultPassword]), /^# If you use normal 'ansible-vault create'/);
});

test('embedded ids: values decrypt with example1..3; the last one is undecryptable on purpose', async () => {
  const text = read('roles_test_vault_embedded_ids_vars_main.yml');
  const values = parseDocument(text, { customTags: [vaultYamlTag] }).toJS() as Record<string, VaultEncryptedValue>;
  const names = Object.keys(values);
  assert.equal(names.length, 4);
  const hello = await decryptVault(values.vault_encrypted_example2_hello!.vaultText, exampleSecrets);
  assert.equal(hello.plaintext.toString(), 'Hello world');
  assert.equal(hello.secret.label, 'example2');
  const foobar = await decryptVault(values.vault_encrypted_example3_foobar!.vaultText, exampleSecrets);
  assert.equal(foobar.plaintext.toString(), 'Foobar');
  assert.equal(foobar.secret.label, 'example3');
  const releases = await decryptVault(values.vault_encrypted_example1_releases!.vaultText, exampleSecrets);
  assert.match(releases.plaintext.toString(), /\S/);
  assert.equal(releases.secret.label, 'example1');

  await assert.rejects(decryptVault(values.vault_encrypted_example4_unknown_password!.vaultText, exampleSecrets), DecryptionFailedError);
  await assert.rejects(decryptInlineYaml(text, exampleSecrets), (e: unknown) => {
    assert.ok(e instanceof DecryptionFailedError);
    assert.match(e.message, /vault_encrypted_example4_unknown_password/);
    return true;
  });
});

test('parseVaultEnvelope of a vector: 32-byte salt and HMAC, whole AES blocks', () => {
  const envelope = parseVaultEnvelope(read('format_1_1_AES256.yml'));
  assert.equal(envelope.salt.length, 32);
  assert.equal(envelope.hmac.length, 32);
  assert.equal(envelope.ciphertext.length % 16, 0);
});
