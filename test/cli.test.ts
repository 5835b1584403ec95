import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runCli } from './helpers/cli.js';
import { VERSION } from '../src/version.js';

test('version matches package.json', async () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  assert.equal(VERSION, pkg.version);
  const r = await runCli(['--version']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, `vaultsmith ${VERSION}\n`);
});

test('unknown command is a one-line usage error with exit 2', async () => {
  const r = await runCli(['no-such-command']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^ERROR! unknown command 'no-such-command'\n/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});
