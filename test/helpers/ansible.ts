/**
 * Helpers to check vaultsmith against the real Ansible: the `ansible-vault` binary for a handful of
 * end-to-end invocations, and Ansible's own Python vault library (VaultLib) driven in ONE
 * `/usr/bin/python3` process for batches of cases (spawning ansible-vault costs ~0.4 s each).
 * Passwords never go into argv or the environment: files (0600, outside the repo) or stdin.
 */
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ToolResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Runs a command with optional stdin; never throws on a non-zero exit. */
export function runTool(
  command: string,
  args: string[],
  opts: { input?: string | Buffer; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd ?? tmpdir(),
      env: opts.env ?? { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs the real `ansible-vault` with the given arguments. */
export function ansibleVault(
  args: string[],
  opts: { input?: string | Buffer; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ToolResult> {
  return runTool('ansible-vault', args, opts);
}

/** Writes a password file (mode 0600) into `dir`, which must be outside the repository. */
export async function writePasswordFile(dir: string, password: string | Buffer, name = 'vault-pass'): Promise<string> {
  const path = join(dir, `${name}-${Math.random().toString(36).slice(2, 8)}`);
  await fsp.writeFile(path, password, { mode: 0o600 });
  await fsp.chmod(path, 0o600);
  return path;
}

/** A temp directory under os.tmpdir(); remove it with `fsp.rm(dir, { recursive: true, force: true })`. */
export function makeTempDir(prefix = 'vaultsmith-test-'): Promise<string> {
  return fsp.mkdtemp(join(tmpdir(), prefix));
}

export type AnsibleLibCase =
  | { op: 'encrypt'; plaintext: Buffer; password: Buffer; label?: string | null; salt?: Buffer }
  | { op: 'decrypt'; vaultText: string; secrets: { label: string; password: Buffer }[] };

export type AnsibleLibResult = { ok: true; output: Buffer; label?: string | null } | { ok: false; error: string };

// Reads JSON cases on stdin, answers JSON results on stdout; binary values travel as base64.
const ANSIBLE_LIB_SCRIPT = String.raw`
import sys, json, base64
from ansible.parsing.vault import VaultLib, VaultSecret
b64 = lambda s: base64.b64decode(s.encode('ascii'))
out = []
for case in json.load(sys.stdin):
    try:
        if case['op'] == 'encrypt':
            secret = VaultSecret(b64(case['password']))
            salt = b64(case['salt']) if case.get('salt') else None
            text = VaultLib([]).encrypt(b64(case['plaintext']), secret, case.get('label'), salt=salt)
            out.append({'ok': True, 'output': base64.b64encode(text).decode('ascii')})
        else:
            secrets = [(s['label'], VaultSecret(b64(s['password']))) for s in case['secrets']]
            plain, label, _ = VaultLib(secrets).decrypt_and_get_vault_id(case['vaultText'].encode('ascii'))
            out.append({'ok': True, 'output': base64.b64encode(plain).decode('ascii'), 'label': label})
    except Exception as e:
        out.append({'ok': False, 'error': type(e).__name__ + ': ' + str(e)})
json.dump(out, sys.stdout)
`;

/** Runs many encrypt/decrypt cases through Ansible's VaultLib in a single python3 process. */
export async function ansibleLibBatch(cases: AnsibleLibCase[]): Promise<AnsibleLibResult[]> {
  const payload = cases.map((c) =>
    c.op === 'encrypt'
      ? {
          op: c.op,
          plaintext: c.plaintext.toString('base64'),
          password: c.password.toString('base64'),
          label: c.label ?? null,
          salt: c.salt ? c.salt.toString('base64') : null,
        }
      : { op: c.op, vaultText: c.vaultText, secrets: c.secrets.map((s) => ({ label: s.label, password: s.password.toString('base64') })) },
  );
  const result = await runTool('/usr/bin/python3', ['-c', ANSIBLE_LIB_SCRIPT], { input: JSON.stringify(payload) });
  if (result.code !== 0) throw new Error(`python3 VaultLib batch failed (exit ${result.code}): ${result.stderr.slice(0, 500)}`);
  const parsed = JSON.parse(result.stdout.toString('utf8')) as ({ ok: true; output: string; label?: string | null } | { ok: false; error: string })[];
  return parsed.map((r) => (r.ok ? { ok: true, output: Buffer.from(r.output, 'base64'), label: r.label ?? null } : r));
}
