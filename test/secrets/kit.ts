/** Shared fixtures for the vault CLI tests: temp dirs, generated passwords, the real ansible-vault. */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Sandbox {
  dir: string;
  /** Environment for our CLI and for ansible-vault: isolated HOME, no inherited vault settings. */
  env: NodeJS.ProcessEnv;
  file(name: string, content: string | Buffer, mode?: number): string;
  passwordFile(name: string, password?: string): { path: string; password: string };
  read(name: string): Buffer;
  mode(name: string): number;
  cleanup(): void;
}

export function newPassword(): string {
  return `pw-${randomBytes(12).toString('hex')}`;
}

export function sandbox(prefix = 'vaultsmith-cli-'): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    ANSIBLE_LOCAL_TEMP: join(dir, '.ansible-tmp'),
    VAULTSMITH_TMPDIR: undefined,
  };
  delete env.VAULTSMITH_TMPDIR;
  const path = (name: string) => (name.startsWith('/') ? name : join(dir, name));
  return {
    dir,
    env,
    file(name, content, mode = 0o600) {
      const p = path(name);
      writeFileSync(p, content, { mode });
      chmodSync(p, mode);
      return p;
    },
    passwordFile(name, password = newPassword()) {
      return { path: this.file(name, `${password}\n`), password };
    },
    read: (name) => readFileSync(path(name)),
    mode: (name) => statSync(path(name)).mode & 0o777,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real ansible-vault (Debian ansible-core 2.14). */
export function ansibleVault(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; input?: string }): ToolResult {
  const r = spawnSync('ansible-vault', args, {
    cwd: options.cwd,
    env: options.env,
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Loads a YAML vars file through Ansible's own DataLoader (which resolves `!vault` values). */
export function ansibleLoadYaml(path: string, passwordFile: string, label = 'default'): ToolResult {
  const script = [
    'import sys, json',
    'from ansible.parsing.dataloader import DataLoader',
    'from ansible.parsing.vault import get_file_vault_secret',
    'loader = DataLoader()',
    'secret = get_file_vault_secret(filename=sys.argv[2], vault_id=sys.argv[3], loader=loader)',
    'secret.load()',
    'loader.set_vault_secrets([(sys.argv[3], secret)])',
    'data = loader.load_from_file(sys.argv[1])',
    'print(json.dumps({k: str(v) for k, v in data.items()}))',
  ].join('\n');
  const r = spawnSync('/usr/bin/python3', ['-c', script, path, passwordFile, label], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
