// Inline `!vault` values: encrypt_string's output shape, extraction, decrypting whole YAML documents
// with comments kept, and the `yaml` custom tag.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse, parseDocument, stringify } from 'yaml';
import { DecryptionFailedError } from '../../src/errors.js';
import {
  decryptInlineYaml,
  decryptVault,
  encryptVault,
  extractVaultText,
  formatVaultString,
  VaultEncryptedValue,
  vaultYamlTag,
} from '../../src/vault/index.js';

const secret = { label: 'default', password: Buffer.from('inline-test-pw') };
const other = { label: 'prod', password: Buffer.from('inline-prod-pw') };

test('formatVaultString: encrypt_string shape — name line, 10-space indent, no final newline', async () => {
  const text = await encryptVault('value', secret);
  const body = text.trimEnd().split('\n');
  assert.equal(formatVaultString(text, { name: 'db_password' }), ['db_password: !vault |', ...body.map((l) => `          ${l}`)].join('\n'));
  assert.equal(formatVaultString(text), ['!vault |', ...body.map((l) => `          ${l}`)].join('\n'));
});

test('extractVaultText accepts a named block, an unnamed block, bare and indented vault text', async () => {
  const text = await encryptVault('extract me', secret);
  const indented = text
    .split('\n')
    .map((l) => (l ? `    ${l}` : l))
    .join('\n');
  for (const input of [
    formatVaultString(text, { name: 'x' }),
    formatVaultString(text),
    `${formatVaultString(text, { name: 'x' })}\n`.replace(/\n/g, '\r\n'),
    text,
    text.trimEnd(),
    `\n${indented}\n\n`,
  ]) {
    assert.equal(extractVaultText(input), text);
  }
  assert.throws(() => extractVaultText('just text'), { code: 'NOT_ENCRYPTED' });
  assert.throws(() => extractVaultText(`a: ${formatVaultString(text).replace(/\n/g, '\n  ')}\nb: ${formatVaultString(text).replace(/\n/g, '\n  ')}\n`), {
    code: 'INPUT',
    message: /exactly one !vault value, found 2/,
  });
});

test('decryptInlineYaml replaces every !vault value (nested, in lists) and keeps comments and order', async () => {
  const indent = (s: string, n: number) => s.replace(/\n/g, `\n${' '.repeat(n)}`);
  const yamlText = [
    '# top comment',
    'zeta: plain',
    `alpha: ${indent(formatVaultString(await encryptVault('multi\nline\n', secret)), 2)}`,
    'nested: # trailing',
    `  key: ${indent(formatVaultString(await encryptVault('nested-value', other)), 4)}`,
    'list:',
    `  - ${indent(formatVaultString(await encryptVault('item-0', secret)), 4)}`,
    '  - plain item',
    `binary: ${indent(formatVaultString(await encryptVault(Buffer.from([0xff, 0x00, 0xfe]), secret)), 2)}`,
    '',
  ].join('\n');
  const out = await decryptInlineYaml(yamlText, [secret, other]);
  assert.match(out, /^# top comment\nzeta: plain\nalpha:/);
  assert.match(out, /# trailing/);
  assert.doesNotMatch(out, /!vault|\$ANSIBLE_VAULT/);
  const data = parseDocument(out).toJS() as Record<string, unknown>;
  assert.deepEqual(Object.keys(data), ['zeta', 'alpha', 'nested', 'list', 'binary']);
  assert.equal(data.alpha, 'multi\nline\n');
  assert.deepEqual(data.nested, { key: 'nested-value' });
  assert.deepEqual(data.list, ['item-0', 'plain item']);
  assert.match(out, /binary: !!binary/);
  assert.deepEqual(Buffer.from(data.binary as Uint8Array), Buffer.from([0xff, 0x00, 0xfe]));

  await assert.rejects(decryptInlineYaml(yamlText, [secret]), (e: unknown) => e instanceof DecryptionFailedError && /value of nested\.key/.test(e.message));
  await assert.rejects(decryptInlineYaml('a: [unclosed', [secret]), { code: 'INPUT' });
});

test('vaultYamlTag parses !vault values to VaultEncryptedValue and writes them back as !vault blocks', async () => {
  const text = await encryptVault('tagged', secret);
  const source = `# keep\nname: ${formatVaultString(text).replace(/\n/g, '\n  ')}\nother: 1\n`;
  const doc = parseDocument(source, { customTags: [vaultYamlTag] });
  const value = doc.get('name');
  assert.ok(value instanceof VaultEncryptedValue);
  assert.equal(value.vaultText, text);
  assert.equal(String(value), '[vault encrypted value]', 'string conversion never shows the vault or plaintext');
  const written = doc.toString();
  assert.match(written, /^# keep\nname: !vault \|\n  \$ANSIBLE_VAULT;1\.1;AES256\n/);
  const reparsed = parseDocument(written, { customTags: [vaultYamlTag] }).get('name') as VaultEncryptedValue;
  assert.equal((await decryptVault(reparsed.vaultText, [secret])).plaintext.toString(), 'tagged');

  // New documents built from JS values.
  const fresh = stringify({ token: new VaultEncryptedValue(text) }, { customTags: [vaultYamlTag] });
  assert.match(fresh, /^token: !vault \|\n  \$ANSIBLE_VAULT;1\.1;AES256\n/);
  const back = parseDocument(fresh, { customTags: [vaultYamlTag] }).get('token') as VaultEncryptedValue;
  assert.equal(back.vaultText, text);
});

test('decryptInlineYaml quotes values that YAML 1.1 (Ansible) would read as booleans or numbers', async () => {
  const lines = ['yes', 'on', 'No', '12:30', '1_000', '~', 'plain words', 'true'];
  let yaml = '';
  for (const [i, value] of lines.entries()) yaml += `${formatVaultString(await encryptVault(value, secret), { name: `v${i}` })}\n`;
  const shown = await decryptInlineYaml(yaml, [secret]);
  assert.match(shown, /^v0: "yes"$/m);
  assert.match(shown, /^v1: "on"$/m);
  assert.match(shown, /^v2: "No"$/m);
  assert.match(shown, /^v3: "12:30"$/m);
  assert.match(shown, /^v4: "1_000"$/m);
  assert.match(shown, /^v5: "~"$/m);
  assert.match(shown, /^v6: plain words$/m);
  // Read back as YAML 1.1, every value is the string that was encrypted.
  assert.deepEqual(Object.values(parse(shown, { version: '1.1' }) as Record<string, unknown>), lines);
});
