import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VaultsmithError } from '../../src/errors.js';
import { Fernet } from '../../src/fernet/index.js';
import {
  CHARSETS,
  DJANGO_SECRET_KEY_CHARS,
  checkDjangoSecretKey,
  generateSecret,
  generatorEntropyBits,
  isFernetKey,
  randomString,
  resolveCharset,
} from '../../src/gen/index.js';

test("django-secret-key: 50 characters of Django's alphabet that pass Django's checks", () => {
  assert.equal(DJANGO_SECRET_KEY_CHARS, 'abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)');
  const keys = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const key = generateSecret({ kind: 'django-secret-key' });
    assert.equal(key.length, 50);
    assert.ok([...key].every((c) => DJANGO_SECRET_KEY_CHARS.includes(c)));
    assert.deepEqual(checkDjangoSecretKey(key), []);
    keys.add(key);
  }
  assert.equal(keys.size, 50);
  assert.equal(generateSecret({ kind: 'django-secret-key', length: 64 }).length, 64);
  assert.throws(() => generateSecret({ kind: 'django-secret-key', length: 40 }), VaultsmithError);
});

test('fernet: a key Fernet accepts, in the exact shape of Fernet.generate_key()', () => {
  const key = generateSecret({ kind: 'fernet' });
  assert.ok(isFernetKey(key));
  assert.equal(Buffer.from(key, 'base64url').length, 32);
  const f = new Fernet(key);
  assert.equal(f.decrypt(f.encrypt('ok')).toString(), 'ok');
});

test('base64, hex and token-urlsafe carry exactly N random bytes', () => {
  for (const bytes of [1, 2, 3, 24, 32, 100]) {
    const b64 = generateSecret({ kind: 'base64', bytes });
    assert.match(b64, /^[A-Za-z0-9+/]*={0,2}$/);
    assert.equal(b64.length, 4 * Math.ceil(bytes / 3)); // like openssl rand -base64, without line wrapping
    assert.equal(Buffer.from(b64, 'base64').length, bytes);
    const hex = generateSecret({ kind: 'hex', bytes });
    assert.match(hex, new RegExp(`^[0-9a-f]{${2 * bytes}}$`));
    const token = generateSecret({ kind: 'token-urlsafe', bytes });
    assert.match(token, /^[A-Za-z0-9_-]+$/); // secrets.token_urlsafe: no padding
    assert.equal(token.length, Math.ceil((bytes * 4) / 3));
  }
  assert.equal(Buffer.from(generateSecret({ kind: 'base64' }), 'base64').length, 32);
  for (const bytes of [0, -1, 1.5, 5000]) assert.throws(() => generateSecret({ kind: 'hex', bytes }), /bytes must be an integer from 1 to 4096/);
});

test('password: length and charset (named, literal, with exclusions)', () => {
  const p = generateSecret({ kind: 'password' });
  assert.match(p, /^[A-Za-z0-9]{32}$/);
  assert.match(generateSecret({ kind: 'password', length: 64, charset: 'url-safe' }), /^[A-Za-z0-9._~-]{64}$/);
  assert.match(generateSecret({ kind: 'password', length: 64, charset: 'safe' }), /^[A-Za-z0-9._-]{64}$/);
  assert.match(generateSecret({ kind: 'password', length: 30, charset: 'xyz' }), /^[xyz]{30}$/);
  const printable = generateSecret({ kind: 'password', length: 200, charset: 'ascii-printable', exclude: `'"\\$\`` });
  assert.match(printable, /^[\x21-\x7e]{200}$/);
  assert.doesNotMatch(printable, /['"\\$`]/);
  assert.throws(() => generateSecret({ kind: 'password', length: 4 }), /length must be an integer from 8/);
  assert.throws(() => generateSecret({ kind: 'password', charset: 'aaaa' }), /fewer than 2 distinct characters/);
  assert.throws(() => generateSecret({ kind: 'password', charset: 'ab cd' }), /whitespace or control/);
  assert.throws(() => generateSecret({ kind: 'nope' as 'hex' }), /unknown generator kind/);
});

test('resolveCharset drops duplicates; randomString refuses biased alphabets', () => {
  assert.equal(resolveCharset('aabbc'), 'abc');
  assert.equal(resolveCharset('hex', 'abc'), '0123456789def');
  assert.equal(CHARSETS['ascii-printable']!.length, 94);
  assert.throws(() => randomString(5, 'aab'), RangeError);
  assert.throws(() => randomString(5, 'a'), RangeError);
  assert.equal(randomString(0, 'ab'), '');
  const unicode = randomString(40, 'äöü€');
  assert.equal([...unicode].length, 40);
  assert.ok([...unicode].every((c) => 'äöü€'.includes(c)));
  // More than 256 symbols takes the two-byte path.
  const wide = Array.from({ length: 300 }, (_, i) => String.fromCodePoint(0x4e00 + i)).join('');
  assert.ok([...randomString(100, wide)].every((c) => wide.includes(c)));
});

test("checkDjangoSecretKey reports each of Django's problems without echoing the key", () => {
  assert.deepEqual(checkDjangoSecretKey('x'.repeat(60)), ['has 1 distinct characters; Django requires at least 5']);
  const short = checkDjangoSecretKey('abcdef12345');
  assert.equal(short.length, 1);
  assert.match(short[0]!, /is 11 characters long; Django requires at least 50/);
  const insecure = checkDjangoSecretKey(`django-insecure-${'abcdefgh12'.repeat(5)}`);
  assert.equal(insecure.length, 1);
  assert.match(insecure[0]!, /starts with 'django-insecure-'/);
  assert.equal(checkDjangoSecretKey('').length, 2);
  for (const problem of [...short, ...insecure]) assert.doesNotMatch(problem, /abcdef/);
});

test('isFernetKey: the canonical 44-character form only', () => {
  const key = Fernet.generateKey();
  assert.ok(isFernetKey(key));
  assert.ok(!isFernetKey(key.slice(0, 43)));
  assert.ok(!isFernetKey(`${key}\n`));
  assert.ok(!isFernetKey(Buffer.alloc(32, 250).toString('base64'))); // standard alphabet '+/'
  assert.ok(!isFernetKey(Buffer.alloc(24).toString('base64url')));
});

test('generatorEntropyBits: length times log2 of the alphabet', () => {
  assert.equal(Math.floor(generatorEntropyBits({ kind: 'django-secret-key' })), 282);
  assert.equal(generatorEntropyBits({ kind: 'fernet' }), 256);
  assert.equal(generatorEntropyBits({ kind: 'hex', bytes: 16 }), 128);
  assert.equal(Math.round(generatorEntropyBits({ kind: 'password', length: 10, charset: 'digits' })), 33);
});
