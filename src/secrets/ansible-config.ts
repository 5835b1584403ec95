/**
 * The vault settings of Ansible's configuration file, so that a project whose `ansible.cfg` says
 * `vault_password_file = ...` works with vaultsmith exactly as with ansible-vault. Only the
 * `[defaults]` keys that concern vaults are read; environment variables win over the file, as in
 * Ansible.
 */
import { accessSync, constants as fsc, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { expandVars } from './password-file.js';

/** `[defaults]` key → the environment variable that overrides it (Ansible's base.yml). */
const VAULT_SETTINGS: Record<string, string> = {
  vault_password_file: 'ANSIBLE_VAULT_PASSWORD_FILE',
  vault_identity_list: 'ANSIBLE_VAULT_IDENTITY_LIST',
  vault_identity: 'ANSIBLE_VAULT_IDENTITY',
  vault_encrypt_identity: 'ANSIBLE_VAULT_ENCRYPT_IDENTITY',
  vault_id_match: 'ANSIBLE_VAULT_ID_MATCH',
  ask_vault_pass: 'ANSIBLE_ASK_VAULT_PASS',
};

function expandHome(path: string, env: NodeJS.ProcessEnv): string {
  return path === '~' || path.startsWith('~/') ? (env.HOME || homedir()) + path.slice(1) : path;
}

function readable(path: string): boolean {
  try {
    accessSync(path, fsc.R_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Ansible's `find_ini_config_file`: `$ANSIBLE_CONFIG` (a file, or a directory holding ansible.cfg),
 * then `./ansible.cfg` unless the working directory is world-writable, then `~/.ansible.cfg`, then
 * `/etc/ansible/ansible.cfg`; the first readable one is the only one used.
 */
export function findAnsibleConfig(env: NodeJS.ProcessEnv, cwd: string): string | null {
  const candidates: string[] = [];
  if (env.ANSIBLE_CONFIG !== undefined) {
    let fromEnv = resolve(cwd, expandHome(env.ANSIBLE_CONFIG, env));
    try {
      if (statSync(fromEnv).isDirectory()) fromEnv = join(fromEnv, 'ansible.cfg');
    } catch {
      // a missing file is simply skipped below
    }
    candidates.push(fromEnv);
  }
  try {
    // A world-writable directory could plant a config that runs any password script: skipped.
    if ((statSync(cwd).mode & 0o002) === 0) candidates.push(join(cwd, 'ansible.cfg'));
  } catch {
    // no usable working directory
  }
  candidates.push(join(env.HOME || homedir(), '.ansible.cfg'), '/etc/ansible/ansible.cfg');
  return candidates.find(readable) ?? null;
}

/**
 * The `[defaults]` section of an INI file as Python's configparser reads it for Ansible: keys are
 * case-insensitive, `key = value` or `key: value`, whole-line `#`/`;` comments, inline comments
 * after ` ;`, indented lines continue the previous value.
 */
export function parseIniDefaults(text: string): Map<string, string> {
  const values = new Map<string, string>();
  let section = '';
  let lastKey: string | null = null;
  for (const rawLine of text.split(/\r?\n/)) {
    if (/^\s*([#;]|$)/.test(rawLine)) continue;
    const line = rawLine.replace(/\s;.*$/, '');
    if (/^\s/.test(line) && lastKey && section === 'defaults') {
      values.set(lastKey, `${values.get(lastKey) ?? ''}\n${line.trim()}`.trim());
      continue;
    }
    const header = /^\[([^\]]+)\]/.exec(line);
    if (header) {
      section = header[1]!.trim();
      lastKey = null;
      continue;
    }
    const pair = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(line.trim());
    if (!pair) continue;
    lastKey = pair[1]!.toLowerCase();
    if (section === 'defaults') values.set(lastKey, pair[2]!.trim());
  }
  return values;
}

/**
 * The environment with the vault settings of the Ansible config file filled in where the variable
 * is not set. A relative `vault_password_file` is resolved against the config file's directory
 * (Ansible's `path` type); the other settings are taken as written. Unreadable files are ignored.
 */
export function withAnsibleConfig(env: NodeJS.ProcessEnv, cwd: string): NodeJS.ProcessEnv {
  const path = findAnsibleConfig(env, cwd);
  if (!path) return env;
  let settings: Map<string, string>;
  try {
    settings = parseIniDefaults(readFileSync(path, 'utf8'));
  } catch {
    return env;
  }
  let merged: NodeJS.ProcessEnv | null = null;
  for (const [key, variable] of Object.entries(VAULT_SETTINGS)) {
    const value = settings.get(key);
    if (value === undefined || value === '' || env[variable] !== undefined) continue;
    merged ??= { ...env };
    merged[variable] = key === 'vault_password_file' ? resolveConfigPath(value, dirname(path), env) : value;
  }
  return merged ?? env;
}

function resolveConfigPath(value: string, baseDir: string, env: NodeJS.ProcessEnv): string {
  const expanded = expandHome(expandVars(value, env), env);
  return isAbsolute(expanded) ? expanded : resolve(baseDir, expanded);
}
