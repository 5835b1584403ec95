import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fernet, InvalidToken, MAX_CLOCK_SKEW_SECONDS, MultiFernet } from '../../src/fernet/index.js';
import { parseFernetKeys, processLine } from '../../src/fernet/batch.js';
import { pythonUrlsafeB64decode } from '../../src/fernet/python-base64.js';
import { VaultsmithError } from '../../src/errors.js';

const AT = 1_700_000_000;

function isPlainInvalidToken(e: unknown): boolean {
  return e instanceof InvalidToken && e instanceof VaultsmithError && e.code === 'INVALID_TOKEN' && e.message === 'invalid Fernet token';
}

test('round trip of strings and bytes; decrypt returns a Buffer', () => {
  const f = new Fernet(Fernet.generateKey());
  assert.equal(f.decrypt(f.encrypt('pässwörd')).toString('utf8'), 'pässwörd');
  const bytes = Uint8Array.from([0, 255, 10, 13, 128]);
  const out = f.decrypt(f.encrypt(bytes));
  assert.ok(Buffer.isBuffer(out));
  assert.deepEqual([...out], [...bytes]);
  assert.equal(f.decrypt(Buffer.from(f.encrypt(''), 'ascii')).length, 0);
});

test('generateKey: 44 url-safe base64 characters for 32 fresh bytes', () => {
  const a = Fernet.generateKey();
  const b = Fernet.generateKey();
  assert.match(a, /^[A-Za-z0-9_-]{43}=$/);
  assert.notEqual(a, b);
  assert.equal(pythonUrlsafeB64decode(a)?.length, 32);
});

test('token layout: version 0x80, big-endian timestamp, 16-byte IV, block-sized ciphertext, 32-byte HMAC', () => {
  const f = new Fernet(Fernet.generateKey());
  const iv = Buffer.alloc(16, 9);
  const raw = Buffer.from(f.encryptAtTime('x'.repeat(16), AT, iv), 'base64url');
  assert.equal(raw[0], 0x80);
  assert.equal(raw.readBigUInt64BE(1), BigInt(AT));
  assert.deepEqual(raw.subarray(9, 25), iv);
  assert.equal(raw.length, 1 + 8 + 16 + 32 + 32); // 16 bytes of data + a full padding block
  assert.equal(f.extractTimestamp(raw.toString('base64url') + '='.repeat((4 - (raw.toString('base64url').length % 4)) % 4)), AT);
});

test('ttl: expired after ttl seconds, refused beyond 60 s of clock skew, both InvalidToken', () => {
  const f = new Fernet(Fernet.generateKey());
  const token = f.encryptAtTime('t', AT);
  assert.equal(f.decryptAtTime(token, 60, AT + 60).toString(), 't');
  assert.throws(() => f.decryptAtTime(token, 60, AT + 61), isPlainInvalidToken);
  assert.equal(MAX_CLOCK_SKEW_SECONDS, 60);
  assert.equal(f.decryptAtTime(token, 60, AT - 60).toString(), 't');
  assert.throws(() => f.decryptAtTime(token, 60, AT - 61), isPlainInvalidToken);
  // Without a ttl, age does not matter (Python's decrypt(token) with ttl=None).
  assert.equal(f.decrypt(token).toString(), 't');
  assert.throws(() => f.decrypt(token, 60), isPlainInvalidToken); // 2023 is long ago
  const fresh = f.encrypt('now');
  assert.equal(f.decrypt(fresh, 60).toString(), 'now');
  const future = f.encryptAtTime('future', Math.floor(Date.now() / 1000) + 3600);
  assert.throws(() => f.decrypt(future, 10 ** 9), isPlainInvalidToken);
});

test('tampering with any part of the token gives the same InvalidToken', () => {
  const f = new Fernet(Fernet.generateKey());
  const raw = Buffer.from(f.encryptAtTime('secret data', AT), 'base64url');
  for (const index of [0, 1, 8, 9, 24, 25, raw.length - 33, raw.length - 1]) {
    const copy = Buffer.from(raw);
    copy[index]! ^= 0x01;
    assert.throws(() => f.decrypt(copy.toString('base64url') + '=='), isPlainInvalidToken, `byte ${index}`);
  }
  assert.throws(() => f.decrypt(raw.subarray(0, 60).toString('base64')), isPlainInvalidToken);
  assert.throws(() => f.decrypt('not a token'), isPlainInvalidToken);
  assert.throws(() => new Fernet(Fernet.generateKey()).decrypt(f.encrypt('x')), isPlainInvalidToken);
  assert.throws(() => f.extractTimestamp(Buffer.from(raw).fill(1, 40, 41).toString('base64url') + '=='), isPlainInvalidToken);
});

test('bad keys: wrong length, not base64, missing padding -> InvalidToken naming the rule, not the key', () => {
  const key32 = Buffer.alloc(32, 1).toString('base64url') + '=';
  assert.doesNotThrow(() => new Fernet(key32));
  for (const bad of [
    Buffer.alloc(16, 1).toString('base64url') + '==',
    Buffer.alloc(64, 1).toString('base64url') + '==',
    key32.slice(0, -1),
    'not-base64-at-all!',
    '',
  ]) {
    assert.throws(
      () => new Fernet(bad),
      (e: unknown) => e instanceof InvalidToken && /32 url-safe base64-encoded bytes/.test(e.message) && (bad === '' || !e.message.includes(bad)),
    );
  }
});

test('encryptAtTime validates its inputs like Python (8-byte timestamp, 16-byte IV)', () => {
  const f = new Fernet(Fernet.generateKey());
  assert.throws(() => f.encryptAtTime('x', -1), RangeError);
  assert.throws(() => f.encryptAtTime('x', 2n ** 64n), RangeError);
  assert.throws(() => f.encryptAtTime('x', 1.5), RangeError);
  assert.throws(() => f.encryptAtTime('x', AT, new Uint8Array(8)), RangeError);
  assert.equal(f.decrypt(f.encryptAtTime('x', 2n ** 64n - 1n)).toString(), 'x');
});

test('MultiFernet: first key encrypts, all keys decrypt, rotate keeps the timestamp', () => {
  const oldKey = new Fernet(Fernet.generateKey());
  const newKey = new Fernet(Fernet.generateKey());
  const multi = new MultiFernet([newKey, oldKey]);
  assert.equal(newKey.decrypt(multi.encrypt('a')).toString(), 'a');
  const old = oldKey.encryptAtTime('row', AT);
  assert.equal(multi.decrypt(old).toString(), 'row');
  const rotated = multi.rotate(old);
  assert.equal(newKey.decrypt(rotated).toString(), 'row');
  assert.equal(newKey.extractTimestamp(rotated), AT);
  assert.equal(multi.extractTimestamp(old), AT);
  assert.throws(() => oldKey.decrypt(rotated), isPlainInvalidToken);
  // rotate ignores age (Python passes no ttl), but decrypt with a ttl does not.
  assert.throws(() => multi.decrypt(old, 60), isPlainInvalidToken);
  assert.equal(multi.decryptAtTime(old, 60, AT + 1).toString(), 'row');
  assert.throws(() => multi.rotate(new Fernet(Fernet.generateKey()).encrypt('x')), isPlainInvalidToken);
  assert.throws(() => new MultiFernet([]), RangeError);
});

test('parseFernetKeys: comma lists and YAML lists; errors name the source and position only', () => {
  const [a, b] = [Fernet.generateKey(), Fernet.generateKey()];
  const token = new Fernet(b).encrypt('x');
  assert.equal(parseFernetKeys(`${a}, ${b}`, 'KEYS').decrypt(token).toString(), 'x');
  assert.equal(parseFernetKeys([a, b], 'vault: k').size, 2);
  assert.throws(
    () => parseFernetKeys(`${a},${a.slice(0, 20)}`, 'KEYS'),
    (e: unknown) => e instanceof InvalidToken && e.message.startsWith('KEYS: key 2 of 2 is not a valid Fernet key') && !e.message.includes(a.slice(0, 20)),
  );
  assert.throws(() => parseFernetKeys({ nested: a }, 'vault: k'), /does not hold a Fernet key/);
  assert.throws(() => parseFernetKeys(' , ', 'KEYS'), /KEYS is empty/);
});

test('processLine: blank lines stay blank, bad tokens report a reason without content', () => {
  const multi = new MultiFernet([new Fernet(Fernet.generateKey())]);
  assert.deepEqual(processLine('decrypt', multi, 1, Buffer.from('   ')), { line: 1, kind: 'blank' });
  const bad = processLine('decrypt', multi, 2, Buffer.from('gAAAAAsecret-ish-content'));
  assert.deepEqual(bad, { line: 2, kind: 'error', reason: 'invalid token' });
  const multiLine = processLine('decrypt', multi, 3, Buffer.from(multi.encrypt('a\nb')), { singleLine: true });
  assert.equal(multiLine.kind, 'error');
  const ok = processLine('decrypt', multi, 4, Buffer.from(`  ${multi.encrypt('a\nb')}\t`));
  assert.equal(ok.kind === 'ok' && ok.output.toString(), 'a\nb');
});
