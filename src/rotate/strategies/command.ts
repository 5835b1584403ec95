import { spawn } from 'node:child_process';
import { VaultsmithError } from '../../errors.js';
import type { RotationStrategy, StrategyContext } from '../types.js';

/**
 * Runs a user-supplied shell command from the manifest with a value on stdin (never in argv or the
 * environment). The command learns what is happening from VAULTSMITH_ROTATE_* variables.
 */
export function runRotationCommand(ctx: StrategyContext, step: string, value: string): Promise<void> {
  const command = ctx.spec[step];
  if (command === undefined) return Promise.resolve();
  if (typeof command !== 'string' || !command.trim()) {
    return Promise.reject(new VaultsmithError('MANIFEST', `rotation of ${ctx.secretKey}: '${step}' must be a shell command`));
  }
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], {
      cwd: ctx.cwd,
      stdio: ['pipe', 'ignore', 'pipe'],
      env: {
        ...ctx.processEnv,
        VAULTSMITH_ROTATE_STEP: step,
        VAULTSMITH_ROTATE_ENV: ctx.env,
        VAULTSMITH_ROTATE_SECRET: ctx.secretKey,
      },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 2000) stderr += d.toString();
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(value);
    child.on('error', (e) => reject(new VaultsmithError('EXTERNAL', `rotation ${step} command could not start: ${e.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else {
        // The command's stderr is shown (first line) but it never saw the value in argv; we do not echo stdin.
        const first = stderr.trim().split('\n')[0] ?? '';
        reject(new VaultsmithError('EXTERNAL', `rotation ${step} command failed with exit ${code}${first ? `: ${first}` : ''}`));
      }
    });
  });
}

/**
 * Shell commands from the manifest, each with one value on stdin: `apply` and `test` get the new
 * value, `finish` the old one (to retire it), `revert` the current one (to reinstate it on abort).
 */
export const commandStrategy: RotationStrategy = {
  name: 'command',
  generate: (ctx) => ctx.generateBase(),
  async apply(ctx, v) {
    if (ctx.spec.apply === undefined) throw new VaultsmithError('MANIFEST', `rotation of ${ctx.secretKey}: command strategy needs an 'apply' command`);
    await runRotationCommand(ctx, 'apply', v.pending);
  },
  async test(ctx, v) {
    await runRotationCommand(ctx, 'test', v.pending);
  },
  async finish(ctx, v) {
    await runRotationCommand(ctx, 'finish', v.previous);
  },
  async revert(ctx, v) {
    // Reinstates the value still current in the vault.
    await runRotationCommand(ctx, 'revert', v.current);
  },
};

/** Values rotated elsewhere (e.g. an OAuth client secret): status reminds, rotate refuses. */
export const manualStrategy: RotationStrategy = {
  name: 'manual',
  generate(ctx) {
    throw new VaultsmithError('USAGE', `${ctx.secretKey} is rotated manually at its issuer`, {
      hint: `obtain the new value there, then run 'vaultsmith set ${ctx.env} ${ctx.secretKey}'`,
    });
  },
  async apply() {},
  async test() {},
  async finish() {},
  async revert() {},
};
