// The official Fernet spec vectors (github.com/fernet/spec), run through the public API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Fernet, InvalidToken, MultiFernet } from '../../src/fernet/index.js';

const VECTORS_DIR = '/work/shared/vectors/fernet';

interface GenerateVector {
  token: string;
  now: string;
  iv: number[];
  src: string;
  secret: string;
}
interface VerifyVector {
  token: string;
  now: string;
  ttl_sec: number;
  src: string;
  secret: string;
}
interface InvalidVector {
  desc: string;
  token: string;
  now: string;
  ttl_sec: number;
  secret: string;
}

function load<T>(name: string): T[] {
  const vectors = JSON.parse(readFileSync(join(VECTORS_DIR, name), 'utf8')) as T[];
  assert.ok(vectors.length > 0, `${name} has vectors`);
  return vectors;
}

const unixSeconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

test('generate.json: encryptAtTime with the given IV reproduces each token', () => {
  for (const v of load<GenerateVector>('generate.json')) {
    const token = new Fernet(v.secret).encryptAtTime(v.src, unixSeconds(v.now), Uint8Array.from(v.iv));
    assert.equal(token, v.token);
  }
});

test('verify.json: decryptAtTime with the TTL returns the source text', () => {
  for (const v of load<VerifyVector>('verify.json')) {
    const fernet = new Fernet(v.secret);
    assert.equal(fernet.decryptAtTime(v.token, v.ttl_sec, unixSeconds(v.now)).toString('utf8'), v.src);
    assert.equal(fernet.extractTimestamp(v.token), unixSeconds('1985-10-26T01:20:00-07:00'));
    // The same through MultiFernet with an unrelated key first.
    const multi = new MultiFernet([new Fernet(Fernet.generateKey()), fernet]);
    assert.equal(multi.decryptAtTime(v.token, v.ttl_sec, unixSeconds(v.now)).toString('utf8'), v.src);
  }
});

test('invalid.json: every token is refused with InvalidToken and a message that names no check', () => {
  const vectors = load<InvalidVector>('invalid.json');
  assert.equal(vectors.length, 8);
  for (const v of vectors) {
    const fernet = new Fernet(v.secret);
    assert.throws(
      () => fernet.decryptAtTime(v.token, v.ttl_sec, unixSeconds(v.now)),
      (e: unknown) => e instanceof InvalidToken && e.message === 'invalid Fernet token' && e.code === 'INVALID_TOKEN',
      v.desc,
    );
    assert.throws(() => new MultiFernet([fernet]).decryptAtTime(v.token, v.ttl_sec, unixSeconds(v.now)), InvalidToken, v.desc);
  }
});

test('the package root exports the same Fernet, MultiFernet and InvalidToken', async () => {
  const root = await import('../../src/index.js');
  assert.equal(root.Fernet, Fernet);
  assert.equal(root.MultiFernet, MultiFernet);
  assert.equal(root.InvalidToken, InvalidToken);
});
