// Every malformed input gets its own clear one-line error, the same from the in-memory and the
// streaming decoder, and the streaming decoder writes nothing for it.
import assert from 'node:assert/strict';
import { createCipheriv, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import { DecryptionFailedError, VaultsmithError } from '../../src/errors.js';
import { decryptVault, decryptVaultStream, encryptVault, formatVaultEnvelope, parseVaultHeader } from '../../src/vault/index.js';
import { makeTempDir } from '../helpers/ansible.js';

const password = Buffer.from(`pw-${randomBytes(8).toString('hex')}`);
const secrets = [{ label: 'default', password }];
const HEADER = '$ANSIBLE_VAULT;1.1;AES256';

/** Wraps an inner payload the way Ansible does: hex, 80 columns, final newline. */
function wrap(inner: string | Buffer, header = HEADER): string {
  const hex = Buffer.from(inner).toString('hex');
  const lines = hex.match(/.{1,80}/g) ?? [];
  return `${[header, ...lines].join('\n')}\n`;
}
const h = (b: Buffer) => b.toString('hex');
const inner = (salt: Buffer, hmac: Buffer, ciphertext: Buffer) => `${h(salt)}\n${h(hmac)}\n${h(ciphertext)}`;

let valid = '';
let dir = '';
before(async () => {
  valid = await encryptVault(Buffer.from('x'.repeat(100)), secrets[0]!);
  dir = await makeTempDir();
});
after(async () => {
  if (dir) await fsp.rm(dir, { recursive: true, force: true });
});

function replaceBodyChar(text: string, line: number, column: number, char: string): string {
  const lines = text.split('\n');
  const l = lines[line - 1]!;
  lines[line - 1] = l.slice(0, column - 1) + char + l.slice(column);
  return lines.join('\n');
}

type Case = [name: string, make: () => string | Buffer, code: string, message: RegExp];
const cases: Case[] = [
  ['not a vault', () => 'hello: world\n', 'NOT_ENCRYPTED', /not vault encrypted data/],
  ['leading whitespace before the header', () => ` ${valid}`, 'NOT_ENCRYPTED', /not vault encrypted data/],
  ['empty input', () => '', 'NOT_ENCRYPTED', /not vault encrypted data/],
  ['header with too few fields', () => valid.replace(HEADER, '$ANSIBLE_VAULT;1.1'), 'VAULT_FORMAT', /bad vault header: expected .* got 2 field/],
  ['unknown version', () => valid.replace(HEADER, '$ANSIBLE_VAULT;2.0;AES256'), 'VAULT_FORMAT', /unsupported vault format version '2\.0'/],
  ['unknown cipher', () => valid.replace(HEADER, '$ANSIBLE_VAULT;1.1;AES128'), 'VAULT_FORMAT', /unsupported vault cipher 'AES128'/],
  ['too many header fields', () => valid.replace(HEADER, '$ANSIBLE_VAULT;1.2;AES256;a;b'), 'VAULT_FORMAT', /at most 4/],
  ['magic followed by junk', () => valid.replace(HEADER, '$ANSIBLE_VAULTX;1.1;AES256'), 'VAULT_FORMAT', /bad vault header/],
  ['header only', () => `${HEADER}\n`, 'VAULT_FORMAT', /header but no body/],
  ['non-hex character in the body', () => replaceBodyChar(valid, 3, 5, 'g'), 'VAULT_FORMAT', /unexpected character 'g' on line 3, column 5/],
  ['space inside a body line', () => replaceBodyChar(valid, 2, 80, ' '), 'VAULT_FORMAT', /unexpected character ' ' on line 2, column 80/],
  ['non-ASCII byte in the body', () => Buffer.from(replaceBodyChar(valid, 4, 1, 'é'), 'utf8'), 'VAULT_FORMAT', /non-ASCII|unexpected character/],
  ['odd number of body hex digits', () => valid.slice(0, -2) + '\n', 'VAULT_FORMAT', /odd number of hex digits/],
  ['truncated after two lines', () => valid.split('\n').slice(0, 3).join('\n') + '\n', 'VAULT_FORMAT', /missing its ciphertext line; the vault is truncated/],
  ['truncated after one line', () => valid.split('\n').slice(0, 2).join('\n') + '\n', 'VAULT_FORMAT', /missing its HMAC and ciphertext lines/],
  ['last line missing', () => valid.split('\n').slice(0, -2).join('\n') + '\n', 'VAULT_FORMAT', /truncated or damaged/],
  ['empty salt', () => wrap(inner(Buffer.alloc(0), randomBytes(32), randomBytes(32))), 'VAULT_FORMAT', /salt is empty/],
  ['salt not hex', () => wrap(`zz\n${h(randomBytes(32))}\n${h(randomBytes(32))}`), 'VAULT_FORMAT', /salt is not hexadecimal/],
  ['HMAC of the wrong length', () => wrap(inner(randomBytes(32), randomBytes(31), randomBytes(32))), 'VAULT_FORMAT', /HMAC is 31 bytes, expected 32/],
  ['ciphertext not whole AES blocks', () => wrap(inner(randomBytes(32), randomBytes(32), randomBytes(33))), 'VAULT_FORMAT', /33 bytes, not a multiple of the 16-byte AES block/],
  ['empty ciphertext', () => wrap(inner(randomBytes(32), randomBytes(32), Buffer.alloc(0))), 'VAULT_FORMAT', /ciphertext is empty/],
  ['ciphertext not hex', () => wrap(`${h(randomBytes(32))}\n${h(randomBytes(32))}\n${h(randomBytes(16))}zz`), 'VAULT_FORMAT', /ciphertext is not hexadecimal|odd number/],
  ['a fourth payload line', () => wrap(`${inner(randomBytes(32), randomBytes(32), randomBytes(16))}\n${h(randomBytes(16))}`), 'VAULT_FORMAT', /ciphertext is not hexadecimal/],
];

async function decryptWithStream(text: string | Buffer, name: string): Promise<{ error: unknown; written: number }> {
  const path = join(dir, name.replace(/\W+/g, '-'));
  await fsp.writeFile(path, text);
  const output = new PassThrough();
  let written = 0;
  output.on('data', (d: Buffer) => (written += d.length));
  try {
    await decryptVaultStream(path, output, secrets, { source: 'in.vault' });
    return { error: undefined, written };
  } catch (error) {
    return { error, written };
  }
}

for (const [name, make, code, message] of cases) {
  test(`malformed: ${name} → ${code}`, async () => {
    const text = make();
    let memoryError: unknown;
    await decryptVault(text, secrets, { source: 'in.vault' }).catch((e: unknown) => (memoryError = e));
    for (const [which, error] of [
      ['in-memory', memoryError],
      ['stream', ...[await decryptWithStream(text, name)].map((r) => {
        assert.equal(r.written, 0, 'the stream decoder must not write anything');
        return r.error;
      })],
    ] as const) {
      assert.ok(error instanceof VaultsmithError, `${which}: expected a VaultsmithError, got ${String(error)}`);
      assert.equal(error.code, code, `${which}: ${error.message}`);
      assert.match(error.message, message, which);
      assert.doesNotMatch(error.message, /\n/, `${which}: message must be one line`);
      assert.doesNotMatch(error.message, new RegExp(password.toString()));
      if (code === 'VAULT_FORMAT') assert.match(error.message, /^in\.vault: /, `${which}: names the source`);
    }
  });
}

test('wrong password and a flipped ciphertext byte are DecryptionFailedError (HMAC mismatch)', async () => {
  await assert.rejects(decryptVault(valid, [{ label: 'default', password: Buffer.from('wrong') }]), DecryptionFailedError);
  // Change one inner hex digit to another valid one ("3X" → "3Y"), so only the HMAC can notice.
  const line6 = valid.split('\n')[5]!;
  let pair = 0;
  while (line6[pair] !== '3') pair += 2;
  const flipped = replaceBodyChar(valid, 6, pair + 2, line6[pair + 1] === '0' ? '1' : '0');
  await assert.rejects(decryptVault(flipped, secrets), DecryptionFailedError);
  const stream = await decryptWithStream(flipped, 'flipped');
  assert.ok(stream.error instanceof DecryptionFailedError);
  assert.equal(stream.written, 0);
  await assert.rejects(decryptVault(valid, []), (e: unknown) => e instanceof DecryptionFailedError && /tried vault ids: \(none\)/.test(e.message));
});

test('bad PKCS7 padding behind a valid HMAC is a VAULT_FORMAT error', async () => {
  const salt = randomBytes(32);
  const derived = pbkdf2Sync(password, salt, 10000, 80, 'sha256');
  const badlyPadded = Buffer.concat([Buffer.from('0123456789abcde'), Buffer.from([0x11])]); // pad byte 17 > 16
  const cipher = createCipheriv('aes-256-ctr', derived.subarray(0, 32), derived.subarray(64));
  const ciphertext = Buffer.concat([cipher.update(badlyPadded), cipher.final()]);
  const hmac = createHmac('sha256', derived.subarray(32, 64)).update(ciphertext).digest();
  const text = formatVaultEnvelope({ label: null, salt, hmac, ciphertext });
  await assert.rejects(decryptVault(text, secrets), { code: 'VAULT_FORMAT', message: /invalid PKCS7 padding/ });
  const stream = await decryptWithStream(text, 'badpad');
  assert.equal((stream.error as VaultsmithError).code, 'VAULT_FORMAT');
});

test('tolerated like Ansible: CRLF line ends, blank lines, upper-case hex, spaces around header fields', async () => {
  const variants = [
    valid.replace(/\n/g, '\r\n'),
    valid.replace(/\n/g, '\n\n'),
    valid.split('\n').map((l, i) => (i === 0 ? l : l.toUpperCase())).join('\n'),
    valid.replace(HEADER, '$ANSIBLE_VAULT ; 1.2 ; AES256 ; prod  '),
    valid.replace(/\n$/, ''),
  ];
  for (const [i, text] of variants.entries()) {
    const result = await decryptVault(text, secrets);
    assert.equal(result.plaintext.toString(), 'x'.repeat(100), `variant ${i}`);
    const output = new PassThrough();
    const chunks: Buffer[] = [];
    output.on('data', (d: Buffer) => chunks.push(d));
    const path = join(dir, `variant-${i}`);
    await fsp.writeFile(path, text);
    await decryptVaultStream(path, output, secrets);
    assert.equal(Buffer.concat(chunks).toString(), 'x'.repeat(100), `stream variant ${i}`);
  }
  assert.deepEqual(parseVaultHeader('$ANSIBLE_VAULT ; 1.2 ; AES256 ; prod  '), { version: '1.2', cipher: 'AES256', label: 'prod' });
  assert.deepEqual(parseVaultHeader('$ANSIBLE_VAULT;1.2;AES256;'), { version: '1.2', cipher: 'AES256', label: null });
  assert.deepEqual(parseVaultHeader('$ANSIBLE_VAULT;1.2;AES256'), { version: '1.2', cipher: 'AES256', label: null });
});

test('encrypting refuses vault text, empty passwords and labels that cannot round-trip', async () => {
  await assert.rejects(encryptVault(valid, secrets[0]!), { code: 'ALREADY_ENCRYPTED' });
  await assert.rejects(encryptVault('x', { label: 'default', password: Buffer.alloc(0) }), { code: 'PASSWORD_SOURCE' });
  await assert.rejects(encryptVault('x', secrets[0]!, { label: 'a;b' }), { code: 'INPUT' });
  await assert.rejects(encryptVault('x', secrets[0]!, { label: ' padded' }), { code: 'INPUT' });
  await assert.rejects(encryptVault('x', secrets[0]!, { salt: new Uint8Array(0) }), { code: 'INPUT' });
});

test('a bad character deep inside a large vault is reported at its exact line and column by both decoders', async () => {
  const big = await encryptVault(randomBytes(300_000), secrets[0]!);
  for (const [line, column] of [[5000, 17], [14000, 80], [7, 1]] as const) {
    const text = replaceBodyChar(big, line, column, 'x');
    const expected = new RegExp(`unexpected character 'x' on line ${line}, column ${column}`);
    await assert.rejects(decryptVault(text, secrets), { code: 'VAULT_FORMAT', message: expected });
    const stream = await decryptWithStream(text, `deep-${line}`);
    assert.match((stream.error as Error).message, expected);
    assert.equal(stream.written, 0);
  }
});
