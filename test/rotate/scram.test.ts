import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { isScramVerifier, scramSha256Verifier } from '../../src/rotate/scram.js';
import { requireTool } from '../helpers/tools.js';

test('scramSha256Verifier has PostgreSQL shape: 4096 iterations, 16-byte salt, 32-byte keys', async () => {
  const v = await scramSha256Verifier(randomBytes(12).toString('hex'));
  assert.ok(isScramVerifier(v), 'verifier shape');
  const m = /^SCRAM-SHA-256\$4096:([^$]+)\$([^:]+):(.+)$/.exec(v);
  assert.ok(m);
  assert.equal(Buffer.from(m[1]!, 'base64').length, 16);
  assert.equal(Buffer.from(m[2]!, 'base64').length, 32);
  assert.equal(Buffer.from(m[3]!, 'base64').length, 32);
  assert.notEqual(v, await scramSha256Verifier('same'), 'fresh salt each time');
});

test('scramSha256Verifier matches an independent Python computation (RFC 5802)', async (t) => {
  if (!requireTool(t, '/usr/bin/python3')) return;
  const password = randomBytes(15).toString('base64url');
  const salt = randomBytes(16);
  const ours = await scramSha256Verifier(password, { salt });
  // Python reads the password on stdin, never from argv.
  const py = `
import sys, hashlib, hmac, base64
pw = sys.stdin.read().encode(); salt = base64.b64decode(sys.argv[1])
sp = hashlib.pbkdf2_hmac('sha256', pw, salt, 4096, 32)
ck = hmac.new(sp, b'Client Key', 'sha256').digest(); sk = hmac.new(sp, b'Server Key', 'sha256').digest()
b = lambda x: base64.b64encode(x).decode()
print('SCRAM-SHA-256$4096:%s$%s:%s' % (b(salt), b(hashlib.sha256(ck).digest()), b(sk)))`;
  const r = spawnSync('/usr/bin/python3', ['-c', py, salt.toString('base64')], { input: password, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(ours, r.stdout.trim());
});

test('scramSha256Verifier refuses non-ASCII passwords (no SASLprep)', async () => {
  await assert.rejects(scramSha256Verifier('pässword'), /only ASCII/);
});
