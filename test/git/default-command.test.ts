import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultGitCommand } from '../../src/services/git.js';

test('git install: hooks run vaultsmith from PATH, else the running CLI by absolute path', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vs-gitcmd-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cli = join(dir, 'dist dir', 'cli.js');
  const bin = join(dir, 'bin');
  mkdirSync(join(dir, 'dist dir'));
  mkdirSync(bin);
  writeFileSync(cli, '// the built CLI\n');

  const without = defaultGitCommand({ PATH: '/nonexistent' }, ['node', cli]);
  assert.equal(without, `${process.execPath.includes(' ') ? `'${process.execPath}'` : process.execPath} '${realpathSync(cli)}'`);
  assert.equal(defaultGitCommand({ PATH: '/nonexistent' }, ['node', join(dir, 'other.js')]), 'vaultsmith', 'not our CLI: the plain name');

  writeFileSync(join(bin, 'vaultsmith'), '#!/bin/sh\n');
  chmodSync(join(bin, 'vaultsmith'), 0o755);
  assert.equal(defaultGitCommand({ PATH: bin }, ['node', cli]), 'vaultsmith', 'on PATH: the plain name');
});
