// The envelope encoder's fast paths (WebAssembly kernel, JS table) against the plain definition
// hex(hex(bytes)) wrapped at 80 columns, for any chunking and starting column.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { encryptVault, encryptVaultBytes, formatVaultHeader, isEncryptedVault } from '../../src/vault/index.js';
import { decryptEnvelope } from '../../src/vault/codec.js';
import { OuterHexWriter, parseVaultEnvelope } from '../../src/vault/format.js';
import { decodeScalar, hexKernels, type HexKernels } from '../../src/vault/hex-kernels.js';

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

// --- the SIMD line decoder (decode) against the scalar kernel (decodeScalar) and the definition ---

/** Outer hex of bytes as "\n"-terminated 80-column lines; `inner` rewrites the inner hex (e.g. case). */
function vaultLines(bytes: Buffer, inner: (hex: string) => string = (h) => h): string {
  const outer = Buffer.from(inner(bytes.toString('hex')), 'latin1').toString('hex');
  return (outer.match(/.{1,80}/g) ?? []).map((l) => `${l}\n`).join('');
}

/** The definition: whole valid lines decoded with Buffer.from(·, 'hex') twice. */
function defined(text: string, lines: number): Buffer {
  const outer = text.slice(0, lines * 81).split('\n').join('');
  return Buffer.from(Buffer.from(outer, 'hex').toString('latin1'), 'hex');
}

/** Runs both kernels on text placed `shift` bytes into the input area; they must agree. */
function decodeBoth(kernels: HexKernels, text: Buffer | string, shift = 0): { consumed: number; out: Buffer } {
  const scalar = decodeScalar();
  assert.ok(scalar);
  const input = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  const start = kernels.inputOffset + shift;
  kernels.memory.set(input, start);
  const run = (decode: (start: number, n: number) => number) => {
    const consumed = decode(start, input.length);
    assert.equal(consumed % 81, 0);
    return { consumed, out: Buffer.from(kernels.memory.subarray(kernels.outputOffset, kernels.outputOffset + (consumed / 81) * 20)) };
  };
  const simd = run(kernels.decode);
  const reference = run(scalar);
  assert.equal(simd.consumed, reference.consumed, 'SIMD and scalar kernels consume the same');
  assert.ok(simd.out.equals(reference.out), 'SIMD and scalar kernels write the same');
  return simd;
}

test('SIMD line decoder (decode) equals the scalar kernel and hex-decoding twice, any case, any count', () => {
  const kernels = hexKernels();
  assert.ok(kernels, 'WebAssembly kernels (with SIMD) should compile on Node 20');
  const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i)); // 12.8 lines
  const mixedCase = (h: string) => [...h].map((c, i) => (i % 3 === 0 ? c.toUpperCase() : c)).join('');
  const cases: [string, Buffer, (h: string) => string][] = [
    ['every byte value', Buffer.concat([everyByte, everyByte.subarray(0, 4)]), (h) => h],
    ['upper-case inner digits', Buffer.concat([everyByte, everyByte.subarray(0, 4)]), (h) => h.toUpperCase()],
    ['mixed-case inner digits', Buffer.concat([everyByte, everyByte.subarray(0, 4)]), mixedCase],
    ['random', randomBytes(20 * 1000), mixedCase],
  ];
  for (const lines of [1, 2, 3, 4, 5, 7]) cases.push([`${lines} random lines`, randomBytes(20 * lines), (h) => h]);
  for (const [label, bytes, inner] of cases) {
    const text = vaultLines(bytes, inner);
    for (const shift of [0, 1, 3]) {
      const { consumed, out } = decodeBoth(kernels, text, shift);
      assert.equal(consumed, text.length, label);
      assert.ok(out.equals(bytes), label);
      assert.ok(out.equals(defined(text, consumed / 81)), label);
    }
    // Outer hex digits are all 0-9 (inner digits are ASCII 0x30-0x39, 0x41-0x46, 0x61-0x66), so an
    // upper-cased outer text is the same text and decodes the same.
    assert.ok(decodeBoth(kernels, text.toUpperCase()).out.equals(bytes), label);
  }
});

test('SIMD line decoder stops before exactly the line with a bad character, at any position', () => {
  const kernels = hexKernels();
  assert.ok(kernels);
  const bad = ['g', ' ', '\x00', '\xff', '/', ':', '@', 'G', '`', '{', '\n', '\r', 'A', 'a', 'F', 'f'];
  const lines = vaultLines(randomBytes(20 * 5)).split('\n').slice(0, 5);
  for (let lineIndex = 0; lineIndex < 5; lineIndex++) {
    for (let column = 0; column < 80; column++) {
      for (const char of bad) {
        const broken = lines.map((l, i) => (i === lineIndex ? l.slice(0, column) + char + l.slice(column + 1) : l));
        const { consumed, out } = decodeBoth(kernels, Buffer.from(broken.join('\n') + '\n', 'latin1'));
        assert.equal(consumed, lineIndex * 81, `${JSON.stringify(char)} in line ${lineIndex} column ${column}`);
        assert.ok(out.equals(defined(broken.join('\n'), lineIndex)));
      }
    }
  }
});

test('SIMD line decoder accepts exactly the character pairs the scalar table accepts', () => {
  const kernels = hexKernels();
  assert.ok(kernels);
  const valid = new Set<number>();
  for (const digit of '0123456789abcdefABCDEF') {
    const outer = digit.charCodeAt(0).toString(16);
    valid.add(outer.charCodeAt(0) | (outer.charCodeAt(1) << 8));
  }
  const lines = vaultLines(randomBytes(20 * 6)).split('\n').slice(0, 6);
  // Every (a, b) of 65536, at every pair position of a line, as line 0, 1 or 2 of a block of 4.
  for (let pair = 0; pair < 65536; pair++) {
    const position = pair % 40;
    const lineIndex = pair % 3;
    const chars = String.fromCharCode(pair & 0xff, pair >> 8);
    const block = lines.slice(0, 4).map((l, i) => (i === lineIndex ? l.slice(0, 2 * position) + chars + l.slice(2 * position + 2) : l));
    const text = Buffer.from(block.join('\n') + '\n', 'latin1');
    const ok = valid.has(pair);
    // (an accepted pair is two of "0"-"9": no "\n" can be among them)
    const { consumed, out } = decodeBoth(kernels, text, pair % 2);
    assert.equal(consumed, ok ? text.length : lineIndex * 81, `pair ${JSON.stringify(chars)} at ${position}`);
    if (ok) assert.ok(out.equals(defined(block.join('\n') + '\n', 4)));
  }
});

test('SIMD line decoder stops before a short, long, CRLF or unterminated line', () => {
  const kernels = hexKernels();
  assert.ok(kernels);
  const good = vaultLines(randomBytes(20 * 4)).split('\n').slice(0, 4);
  const variants: [string, (l: string) => string][] = [
    ['short line', (l) => `${l.slice(0, 79)}\n`],
    ['long line', (l) => `${l}3\n`],
    ['CRLF line end', (l) => `${l}\r\n`],
    ['empty line', () => '\n'],
  ];
  for (let lineIndex = 0; lineIndex < 4; lineIndex++) {
    for (const [label, change] of variants) {
      const text = good.map((l, i) => (i === lineIndex ? change(l) : `${l}\n`)).join('');
      assert.equal(decodeBoth(kernels, text).consumed, lineIndex * 81, `${label} as line ${lineIndex}`);
    }
    // missing final "\n": the text ends after the 80 characters of line lineIndex
    const unterminated = good.slice(0, lineIndex + 1).join('\n');
    assert.equal(decodeBoth(kernels, unterminated).consumed, lineIndex * 81, `no final newline after line ${lineIndex}`);
    // and a line cut anywhere inside is never consumed
    for (const cut of [1, 40, 79]) {
      const text = good.slice(0, lineIndex).map((l) => `${l}\n`).join('') + good[lineIndex]!.slice(0, cut);
      assert.equal(decodeBoth(kernels, text).consumed, lineIndex * 81);
    }
  }
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
