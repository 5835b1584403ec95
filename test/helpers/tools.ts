import { spawn, spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';

const found = new Map<string, boolean>();

export function hasTool(name: string): boolean {
  let ok = found.get(name);
  if (ok === undefined) {
    ok = spawnSync('sh', ['-c', `command -v "$0"`, name], { stdio: 'ignore' }).status === 0;
    found.set(name, ok);
  }
  return ok;
}

/**
 * Returns true when the system tool is present. Outside CI a missing tool skips the test with a loud
 * notice naming it; under CI=true a missing tool fails the test.
 */
export function requireTool(t: TestContext, name: string): boolean {
  if (hasTool(name)) return true;
  if (process.env.CI === 'true') throw new Error(`required system tool '${name}' is missing (CI=true: not skipping)`);
  process.stderr.write(`\n*** NOTICE: '${name}' is not installed; skipping: ${t.name} ***\n`);
  t.skip(`'${name}' not installed`);
  return false;
}

/**
 * Another live process on this host, for tests that need a lock "held by someone else" (a lock
 * holding the test's own pid counts as stale). Stop it when done.
 */
export function startForeignProcess(): { pid: number; stop: () => void } {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60_000)'], { stdio: 'ignore' });
  child.unref();
  return { pid: child.pid!, stop: () => void child.kill('SIGKILL') };
}
