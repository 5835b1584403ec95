import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

function dirs() {
  const project = mkdtempSync(join(tmpdir(), 'vs-init-project-'));
  const home = mkdtempSync(join(tmpdir(), 'vs-init-home-'));
  return {
    project,
    home,
    cleanup: () => {
      rmSync(project, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    },
  };
}

test('init refuses password files inside the repository and creates nothing', async () => {
  const { project, cleanup } = dirs();
  try {
    // HOME inside the project puts ~/.vault_pass_* inside the repository.
    const r = await runCli(['init', '--yes'], { cwd: project, env: { PATH: process.env.PATH, HOME: join(project, 'home') } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^ERROR! the password file .*\.vault_pass_production of production would be inside the repository/);
    assert.deepEqual(readdirSync(project), []);
  } finally {
    cleanup();
  }
});

test('init asks for confirmation unless --yes', async () => {
  const { project, home, cleanup } = dirs();
  const env = { PATH: process.env.PATH, HOME: home };
  try {
    const no = await runCli(['init'], { cwd: project, env, stdin: 'n\n' });
    assert.equal(no.code, 2);
    assert.match(no.stderr, /not confirmed; nothing was created/);
    assert.deepEqual(readdirSync(project), []);
    const yes = await runCli(['init', '--json'], { cwd: project, env, stdin: 'y\n' });
    assert.equal(yes.code, 0, yes.stderr);
    const result = JSON.parse(yes.stdout);
    assert.equal(result.manifest, 'created');
    assert.deepEqual(result.environments.map((e: { name: string }) => e.name), ['production', 'staging']);
    assert.deepEqual(result.environments[0].generated, ['vault_secret_key']);
    assert.equal(statSync(join(home, '.vault_pass_staging')).mode & 0o777, 0o600);
    const check = await runCli(['check'], { cwd: project, env });
    assert.equal(check.code, 0, check.stdout);
  } finally {
    cleanup();
  }
});

test('an existing .gitignore pattern that covers the password files is left alone; .env is added', async () => {
  const { project, home, cleanup } = dirs();
  try {
    writeFileSync(join(project, '.gitignore'), 'node_modules/\n.vault_pass*\n');
    const r = await runCli(['init', '--yes', '--json'], { cwd: project, env: { PATH: process.env.PATH, HOME: home } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).gitignore.status, 'present');
    assert.equal(readFileSync(join(project, '.gitignore'), 'utf8'), 'node_modules/\n.vault_pass*\n# rendered environment files (vaultsmith env)\n.env\n');
    const again = await runCli(['init', '--yes', '--json'], { cwd: project, env: { PATH: process.env.PATH, HOME: home } });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(readFileSync(join(project, '.gitignore'), 'utf8'), 'node_modules/\n.vault_pass*\n# rendered environment files (vaultsmith env)\n.env\n', 'idempotent');
    const bad = await runCli(['init', '--preset', 'nope', '--yes'], { cwd: project, env: { PATH: process.env.PATH, HOME: home } });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown preset 'nope' \(available: minimal, senex\)/);
  } finally {
    cleanup();
  }
});

test('vault text from init keeps strings strings for YAML 1.1 (Ansible): yes, 12:30, 0777 are quoted', async () => {
  const { vaultYamlText } = await import('../../src/services/init.js');
  const { parse } = await import('yaml');
  const entries = [
    { key: 'vault_flag', value: 'yes', group: 'G' },
    { key: 'vault_time', value: '12:30', group: 'G' },
    { key: 'vault_mode', value: '0777', group: 'G' },
    { key: 'vault_name', value: 'senextrader', group: 'G' },
    { key: 'vault_port', value: 5432, group: 'G' },
  ];
  const text = vaultYamlText('p', 'staging', entries as Parameters<typeof vaultYamlText>[2]);
  assert.match(text, /^vault_flag: "yes"$/m);
  assert.match(text, /^vault_time: "12:30"$/m);
  assert.match(text, /^vault_mode: "0777"$/m);
  assert.match(text, /^vault_name: senextrader$/m);
  assert.match(text, /^vault_port: 5432$/m);
  const yaml11 = parse(text, { version: '1.1' }) as Record<string, unknown>;
  assert.deepEqual([yaml11.vault_flag, yaml11.vault_time, yaml11.vault_mode], ['yes', '12:30', '0777']);
});
