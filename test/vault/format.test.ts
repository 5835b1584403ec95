// The envelope encoder's fast paths (WebAssembly kernel, JS table) against the plain definition
// hex(hex(bytes)) wrapped at 80 columns, for any chunking and starting column.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { encryptVault, encryptVaultBytes, formatVaultHeader, isEncryptedVault } from '../../src/vault/index.js';
import { decryptEnvelope } from '../../src/vault/codec.js';
import { OuterHexWriter, parseVaultEnvelope } from '../../src/vault/format.js';
import { hexKernels } from '../../src/vault/hex-kernels.js';

test('pushCiphertext (kernel and JS paths) equals push(hex(ciphertext)) for any chunking and column', () => {
  assert.ok(hexKernels(), 'WebAssembly kernels should compile on Node 20');
  for (const prefixLength of [0, 4, 20, 36, 76]) {
    const chunks = [randomBytes(5000), randomBytes(3), randomBytes(300_000), randomBytes(4096), randomBytes(17)];
    const fast = new OuterHexWriter();
    const plain = new OuterHexWriter();
    const prefix = Buffer.alloc(prefixLength / 2, 0x61);
    const a = [fast.push(prefix), ...chunks.map((c) => fast.pushCiphertext(c)), fast.finish()];
    const b = [plain.push(prefix), ...chunks.map((c) => plain.push(Buffer.from(c.toString('hex'), 'latin1'))), plain.finish()];
    assert.ok(Buffer.concat(a).equals(Buffer.concat(b)), `prefix ${prefixLength}`);
    const lines = Buffer.concat(a).toString('latin1').split('\n');
    assert.equal(lines.pop(), '');
    assert.ok(lines.every((l) => l.length >= 1 && l.length <= 80));
  }
});

test('SIMD line kernel (encodeLines) writes what the scalar kernel writes, for every byte value', () => {
  const kernels = hexKernels();
  assert.ok(kernels, 'WebAssembly kernels (with SIMD) should compile on Node 20');
  const lines = 200;
  const input = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(lines * 20 - 256)]);
  kernels.memory.set(input, kernels.inputOffset);
  const scalarLength = kernels.encode(input.length, 0);
  const scalar = Buffer.from(kernels.memory.subarray(kernels.outputOffset, kernels.outputOffset + scalarLength));
  const simdLength = kernels.encodeLines(lines);
  assert.equal(simdLength, lines * 81);
  const simd = Buffer.from(kernels.memory.subarray(kernels.outputOffset, kernels.outputOffset + simdLength));
  assert.ok(simd.equals(scalar));
  assert.equal(simd.toString('latin1', 0, 16), '3030303130323033');
  assert.equal(simd.toString('latin1').split('\n').slice(0, -1).join(''), Buffer.from(input.toString('hex')).toString('hex'));
});

test('headers Ansible writes and the is_encrypted test', () => {
  assert.equal(formatVaultHeader(null), '$ANSIBLE_VAULT;1.1;AES256');
  assert.equal(formatVaultHeader('default'), '$ANSIBLE_VAULT;1.1;AES256');
  assert.equal(formatVaultHeader('prod'), '$ANSIBLE_VAULT;1.2;AES256;prod');
  assert.equal(isEncryptedVault('$ANSIBLE_VAULT;1.1;AES256\n3132\n'), true);
  assert.equal(isEncryptedVault(Buffer.from('$ANSIBLE_VAULT;1.1;AES256\n3132\n')), true);
  assert.equal(isEncryptedVault(' $ANSIBLE_VAULT;1.1;AES256\n'), false);
  assert.equal(isEncryptedVault('$ANSIBLE_VAULT;1.1;AES256\né'), false);
  assert.equal(isEncryptedVault(Buffer.from([0x24, 0x41])), false);
});

test('encryptVaultBytes is encryptVault as bytes; decryptEnvelope decrypts a parsed envelope', async () => {
  const secret = { label: 'bytes', password: randomBytes(10) };
  for (const size of [0, 15, 16, 17, 5000, 70_001]) {
    const plaintext = randomBytes(size);
    const salt = randomBytes(32);
    const bytes = await encryptVaultBytes(plaintext, secret, { salt });
    assert.equal(bytes.toString('latin1'), await encryptVault(plaintext, secret, { salt }), `size ${size}`);
    const decrypted = await decryptEnvelope(parseVaultEnvelope(bytes), [{ label: 'x', password: randomBytes(4) }, secret]);
    assert.ok(decrypted.plaintext.equals(plaintext));
    assert.equal(decrypted.secret, secret);
  }
});
