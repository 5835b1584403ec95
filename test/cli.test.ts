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

test('the lazy registry agrees with every command module and each has --help with examples', async () => {
  const { commands } = await import('../src/cli/commands/index.js');
  const names = new Set<string>();
  for (const entry of commands) {
    const cmd = await entry.load();
    assert.equal(cmd.name, entry.name);
    assert.deepEqual(cmd.aliases ?? [], entry.aliases ?? []);
    assert.equal(cmd.summary, entry.summary, `summary of ${entry.name}`);
    assert.match(cmd.help, /Usage:/, `${entry.name} --help has a usage line`);
    assert.match(cmd.help, /Examples?:/, `${entry.name} --help has examples`);
    for (const n of [cmd.name, ...(cmd.aliases ?? [])]) {
      assert.ok(!names.has(n), `duplicate command name ${n}`);
      names.add(n);
    }
    const r = await runCli([entry.name, '--help']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, cmd.help);
  }
});

test('main help lists every command', async () => {
  const { commands } = await import('../src/cli/commands/index.js');
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  for (const entry of commands) assert.match(r.stdout, new RegExp(`^  ${entry.name} `, 'm'));
});
