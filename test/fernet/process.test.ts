// The fernet command as a real process: real pipes (with back-pressure on a large input), the
// exit status, and a generated key handed over the way operators do it, in the environment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Fernet } from '../../src/fernet/index.js';

const BIN = ['--import', 'tsx', 'src/bin.ts'];

function runBin(args: string[], env: NodeJS.ProcessEnv, input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...BIN, ...args], { env: { PATH: process.env.PATH, ...env } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    child.stdin.end(input);
  });
}

test('encrypt then decrypt 5,000 lines through pipes; a bad line gives exit status 1', async () => {
  const key = Fernet.generateKey();
  const rows = Array.from({ length: 5_000 }, (_, i) => `row ${i} ✓`);
  const enc = await runBin(['fernet', 'encrypt'], { FIELD_ENCRYPTION_KEY: key }, `${rows.join('\n')}\n`);
  assert.equal(enc.code, 0, enc.stderr);
  const tokens = enc.stdout.trimEnd().split('\n');
  assert.equal(tokens.length, rows.length);

  tokens[123] = 'tampered';
  const dec = await runBin(['fernet', 'decrypt'], { FIELD_ENCRYPTION_KEY: key }, `${tokens.join('\n')}\n`);
  assert.equal(dec.code, 1);
  const plain = dec.stdout.split('\n');
  assert.equal(plain.length, rows.length + 1);
  assert.equal(plain[123], '');
  assert.equal(plain[4_999], 'row 4999 ✓');
  assert.equal(dec.stderr, 'ERROR! line 124: invalid token\nERROR! 1 of 5000 tokens failed (decrypt)\n');
});
