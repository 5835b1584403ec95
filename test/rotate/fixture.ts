/**
 * A throw-away project for rotation tests: a manifest wired to real loopback servers, a vault
 * encrypted with a generated password (password file under os.tmpdir(), never in the repository),
 * helpers to read the vault back and to run the CLI as a real process (for SIGKILL tests).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { readVaultDocument, createVaultFile } from '../../src/store/index.js';
import type { VaultSecret } from '../../src/vault/types.js';
import { runCli } from '../helpers/cli.js';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');

export interface Project {
  dir: string;
  manifestPath: string;
  vaultPath: string;
  passwordFile: string;
  home: string;
  secret: VaultSecret;
  /** Environment for CLI runs (no secrets in it). */
  env: NodeJS.ProcessEnv;
  readVault(): Promise<Record<string, unknown>>;
  cleanup(): void;
}

/** Creates a project with `manifest` (an object, serialised to YAML) and initial vault `values`. */
export async function makeProject(manifest: Record<string, unknown>, values: Record<string, unknown>): Promise<Project> {
  const dir = mkdtempSync(join(tmpdir(), 'vs-rotate-'));
  // HOME (audit key, ~) lives outside the project, as it would for a real user.
  const home = mkdtempSync(join(tmpdir(), 'vs-rotate-home-'));
  const passwordFile = join(dir, 'vault-pass');
  const password = randomBytes(18).toString('hex');
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  const manifestPath = join(dir, 'vaultsmith.yaml');
  const vaultPath = join(dir, 'vault.yml');
  const full = {
    version: 1,
    project: 'rotation-test',
    environments: { test: { vault: 'vault.yml', vault_id: `test@${passwordFile}` } },
    ...manifest,
  };
  writeFileSync(manifestPath, stringify(full));
  const secret: VaultSecret = { label: 'test', password: Buffer.from(password) };
  await createVaultFile(vaultPath, stringify(values), secret, 'test');
  return {
    dir,
    manifestPath,
    vaultPath,
    passwordFile,
    secret,
    home,
    env: { PATH: process.env.PATH, HOME: home, VAULTSMITH_AUDIT_LOG: join(home, 'audit.jsonl'), NO_COLOR: '1' },
    readVault: async () => (await readVaultDocument(vaultPath, [secret])).toJS() as Record<string, unknown>,
    cleanup: () => {
      rmSync(dir, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Opens the vault with the real ansible-vault (2.14) and returns its parsed YAML. */
export function ansibleVaultView(project: Project): Record<string, unknown> {
  const r = spawnSync('ansible-vault', ['view', '--vault-id', `test@${project.passwordFile}`, project.vaultPath], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: project.home, ANSIBLE_LOCAL_TEMP: join(project.dir, '.ansible-tmp') },
  });
  if (r.status !== 0) throw new Error(`ansible-vault view failed: ${r.stderr.split('\n')[0]}`);
  return parseYaml(r.stdout) as Record<string, unknown>;
}

let builtCli: string | undefined;

/**
 * Bundles the CLI once per test file into a temp dir (esbuild, well under a second), so SIGKILL
 * tests run the real binary without touching the shared dist/ and start fast.
 */
export async function buildCli(): Promise<string> {
  if (builtCli) return builtCli;
  const { build } = await import('esbuild');
  const outdir = mkdtempSync(join(tmpdir(), 'vs-cli-'));
  await build({
    entryPoints: { cli: join(REPO_ROOT, 'src/bin.ts') },
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: ['pg-native'],
    banner: { js: "import { createRequire as __vsCreateRequire } from 'node:module'; const require = __vsCreateRequire(import.meta.url);" },
    logLevel: 'error',
  });
  builtCli = join(outdir, 'cli.js');
  process.on('exit', () => rmSync(outdir, { recursive: true, force: true }));
  return builtCli;
}

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the bundled CLI as a child process in the project directory. */
export async function runCliProcess(project: Project, argv: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<ProcessResult> {
  const cli = await buildCli();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cli, ...argv], { cwd: project.dir, env: { ...project.env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
}

export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Every point the fault hook can kill at (mirrors FAULT_POINTS in src/rotate/engine.ts). */
export const KILL_POINTS = ['start', 'prepare:stored', 'prepare', 'apply', 'test', 'deliver:promoted', 'deliver', 'finish:retired', 'finish', 'record'];

/**
 * The fault-injection matrix for one secret: for every kill point, a rotation is SIGKILLed there and
 * then recovered with --resume and, in the next round, with --abort. After each recovery `invariant`
 * must hold (the vault's credential is accepted by the service) and nothing may be left pending.
 */
export async function faultMatrix(
  project: Project,
  secretKey: string,
  invariant: (values: Record<string, unknown>) => Promise<void>,
  assert: { ok(value: unknown, message?: string): void; equal(a: unknown, b: unknown, message?: string): void },
): Promise<void> {
  // The audit trail is covered by the happy-path tests; here it would only add start-up time.
  const quiet = { VAULTSMITH_AUDIT: 'off' };
  // Only the killed run needs its own process; the refusal and the recovery act on what the crash
  // left on disk (vault, journal, stale lock) and run in-process, which halves the process start-ups.
  const inProcess = (argv: string[]) => runCli(argv, { cwd: project.dir, env: { ...project.env, ...quiet } });
  for (const recovery of ['--resume', '--abort'] as const) {
    for (const point of KILL_POINTS) {
      const killed = await runCliProcess(project, ['rotate', 'test', secretKey, '--finish-now'], { ...quiet, VAULTSMITH_FAULT_KILL_AFTER_PHASE: point });
      assert.equal(killed.signal, 'SIGKILL', `${point}: process should have been killed (exit ${killed.code}: ${killed.stderr.split('\n')[0]})`);
      if (point === 'apply' || point === 'deliver:promoted') {
        const refused = await inProcess(['rotate', 'test', secretKey]);
        assert.equal(refused.code, 5, `${point}: a second rotation must be refused while one is pending`);
      }
      const recovered = await inProcess(['rotate', 'test', ...(recovery === '--abort' ? [secretKey] : []), recovery, '--finish-now']);
      assert.equal(recovered.code, 0, `${point} ${recovery}: ${recovered.stderr.trim().split('\n').pop()}`);
      const values = await project.readVault();
      assert.ok(!('vaultsmith_pending' in values), `${point} ${recovery}: nothing pending in the vault`);
      assert.ok(!('vaultsmith_previous' in values), `${point} ${recovery}: no previous value left in the vault`);
      assert.equal(readText(join(project.dir, '.vaultsmith', 'rotation-test.json')), '', `${point} ${recovery}: journal empty`);
      await invariant(values);
    }
  }
}

/**
 * A client that reconnects in a loop with whatever the vault (the delivered environment) says,
 * counting failed logins; `stop()` ends the loop and returns the counts.
 */
export function startReconnectingClient(
  project: Project,
  canLogin: (values: Record<string, unknown>) => Promise<boolean>,
): { stop(): Promise<{ attempts: number; failures: number }> } {
  let running = true;
  let attempts = 0;
  let failures = 0;
  const loop = (async () => {
    while (running) {
      const values = await project.readVault().catch(() => null);
      if (!values) continue;
      attempts++;
      if (!(await canLogin(values))) failures++;
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { attempts, failures };
    },
  };
}
