/**
 * Runs Debian's system Python (/usr/bin/python3, not a pyenv `python3` on PATH) for interop tests.
 * Data, including keys, goes in as JSON on stdin and comes back as JSON on stdout: nothing secret is
 * ever in argv. Batch many cases into one call; each process costs ~100 ms.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';
import { requireTool } from './tools.js';

export const SYSTEM_PYTHON = '/usr/bin/python3';

const moduleFound = new Map<string, boolean>();

/** Isolated mode: ignores PYTHON* variables and the user site, so Debian's packages are what runs. */
const PYTHON_ARGS = ['-I', '-c'];
const PYTHON_ENV = { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' };

/**
 * True when /usr/bin/python3 can import `module` (e.g. 'cryptography.fernet'). Missing: skipped
 * with a loud notice outside CI, a failure under CI=true (like requireTool).
 */
export function requirePythonModule(t: TestContext, module: string): boolean {
  if (!requireTool(t, SYSTEM_PYTHON)) return false;
  let ok = moduleFound.get(module);
  if (ok === undefined) {
    ok = spawnSync(SYSTEM_PYTHON, [...PYTHON_ARGS, `import ${module}`], { stdio: 'ignore', env: PYTHON_ENV }).status === 0;
    moduleFound.set(module, ok);
  }
  if (ok) return true;
  if (process.env.CI === 'true') throw new Error(`${SYSTEM_PYTHON} cannot import '${module}' (CI=true: not skipping)`);
  process.stderr.write(`\n*** NOTICE: ${SYSTEM_PYTHON} cannot import '${module}'; skipping: ${t.name} ***\n`);
  t.skip(`python module '${module}' not available`);
  return false;
}

/**
 * Runs `script` with `input` as JSON on stdin and parses its stdout as JSON. On failure only the
 * last line of Python's stderr (the exception type and message) is reported, so a traceback
 * quoting local variables cannot leak test secrets into the output.
 */
export function runPythonJson<T>(script: string, input: unknown, timeoutMs = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(SYSTEM_PYTHON, [...PYTHON_ARGS, script], { env: PYTHON_ENV, timeout: timeoutMs });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0) {
        const last = Buffer.concat(err).toString('utf8').trim().split('\n').pop() ?? '';
        reject(new Error(`${SYSTEM_PYTHON} failed (${signal ?? `exit ${code}`}): ${last.slice(0, 200)}`));
        return;
      }
      try {
        resolve(JSON.parse(Buffer.concat(out).toString('utf8')) as T);
      } catch (e) {
        reject(new Error(`${SYSTEM_PYTHON} printed no valid JSON: ${(e as Error).message}`));
      }
    });
    child.stdin.end(JSON.stringify(input));
  });
}
