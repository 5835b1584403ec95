import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { VaultsmithError } from '../../errors.js';
import { removePrivateDir } from '../../internal/private-tmp.js';
import { parseCommandArgs } from '../args.js';
import type { CliContext, Command } from '../context.js';
import { palette, useColor, write } from '../output.js';

const help = `Usage: vaultsmith demo [--keep]

Runs the whole manifest flow on the embedded Senex Trader project in a scratch directory, with
password files in a separate scratch HOME (never in your repository or your real home):

  1. init --preset senex --yes     manifest, password files, two encrypted vaults
  2. check                         reports exactly the values only a person can supply
  3. set ... --value-stdin         supplies them (demo values, piped in, never in argv)
  4. check                         passes
  5. set production vault_redis_password --generate
                                   the three Redis URLs follow the new password
  6. env production --service django --mask
                                   the django service's environment, secrets masked

Needs no Ansible, no servers and no network; takes a few seconds; removes everything it created
(password files are zero-filled first) unless --keep is given.

Options:
  --keep    keep the scratch directories and print their paths

Examples:
  vaultsmith demo
  npm start
`;

/** A demo value for a person-supplied key: clearly fake, random per run and per environment. */
function demoValue(key: string): string {
  return `demo-${key.replace(/^vault_/, '').replace(/_/g, '-')}-${randomBytes(12).toString('hex')}`;
}

interface Step {
  title: string;
  argv: string[];
  display: string;
  stdin?: string;
  expectExit: number;
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run init, check, set, check, env on a scratch copy of the Senex Trader project',
  help,
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs('demo', args, { keep: { type: 'boolean' } });
    if (positionals.length) throw new VaultsmithError('USAGE', `demo: unexpected argument '${positionals[0]}'`);
    // Imported lazily: run.ts imports the command list, which includes this command.
    const { run } = await import('../run.js');
    const { loadManifest } = await import('../../manifest/loader.js');
    const { checkProject } = await import('../../services/check.js');
    const p = palette(useColor(ctx));
    const started = Date.now();
    const project = await fsp.mkdtemp(join(tmpdir(), 'vaultsmith-demo-project-'));
    const home = await fsp.mkdtemp(join(tmpdir(), 'vaultsmith-demo-home-'));
    await fsp.chmod(home, 0o700);
    const projectDir = join(project, 'senextrader');
    await fsp.mkdir(projectDir);
    const env: NodeJS.ProcessEnv = { HOME: home, PATH: ctx.env.PATH ?? '/usr/bin:/bin' };
    if (ctx.env.NO_COLOR !== undefined) env.NO_COLOR = ctx.env.NO_COLOR;
    if (ctx.env.FORCE_COLOR !== undefined) env.FORCE_COLOR = ctx.env.FORCE_COLOR;
    // One stream for the story: each step's errors appear where they happen.
    const out: Writable & { isTTY?: boolean } = ctx.stdout;
    const stepCtx = (stdin?: string): CliContext => ({
      stdin: Readable.from(stdin === undefined ? [] : [Buffer.from(stdin)]),
      stdout: out,
      stderr: out,
      env,
      cwd: projectDir,
    });
    const say = (text: string) => write(out, text);
    const runStep = async (step: Step) => {
      await say(`\n${p.bold(step.title)}\n${p.dim(`$ ${step.display}`)}\n`);
      const code = await run(step.argv, stepCtx(step.stdin));
      if (code !== step.expectExit) {
        throw new VaultsmithError('INTERNAL', `demo step '${step.display}' exited ${code}, expected ${step.expectExit}`);
      }
    };

    try {
      await say(
        `${p.bold('vaultsmith demo')} — the secrets contract of Senex Trader, end to end\n` +
          `project:        ${projectDir}\n` +
          `password files: ${home} (a scratch HOME, outside the project)\n`,
      );
      await runStep({ title: '1. Create the project', argv: ['init', '--preset', 'senex', '--yes'], display: 'vaultsmith init --preset senex --yes', expectExit: 0 });
      await runStep({ title: '2. Check: only the values a person must supply are left', argv: ['check'], display: 'vaultsmith check', expectExit: 4 });

      const loaded = await loadManifest({ cwd: projectDir });
      const silent = new PassThrough();
      silent.resume();
      const found = await checkProject(loaded, [], { ...stepCtx(), stderr: silent });
      const toSupply = found.findings.filter((f) => f.kind === 'placeholder');
      if (toSupply.length === 0 || toSupply.length !== found.findings.length) {
        throw new VaultsmithError('INTERNAL', 'demo: the first check should report only placeholders');
      }
      await say(`\n${p.bold(`3. Supply the ${toSupply.length} placeholders`)} ${p.dim('(demo values piped on stdin, never in argv)')}\n`);
      for (const f of toSupply) {
        await say(p.dim(`$ ... | vaultsmith set ${f.env} ${f.key} --value-stdin\n`));
        const code = await run(['set', f.env, f.key, '--value-stdin'], stepCtx(`${demoValue(f.key)}\n`));
        if (code !== 0) throw new VaultsmithError('INTERNAL', `demo: set ${f.env} ${f.key} exited ${code}`);
      }
      await runStep({ title: '4. Check again: clean', argv: ['check'], display: 'vaultsmith check', expectExit: 0 });
      await runStep({
        title: '5. Rotate the Redis password in the vault: the three Redis URLs follow',
        argv: ['set', 'production', 'vault_redis_password', '--generate'],
        display: 'vaultsmith set production vault_redis_password --generate',
        expectExit: 0,
      });
      await runStep({ title: '   ...and check agrees', argv: ['check', 'production'], display: 'vaultsmith check production', expectExit: 0 });
      await runStep({
        title: "6. The django service's environment (values masked)",
        argv: ['env', 'production', '--service', 'django', '--mask'],
        display: 'vaultsmith env production --service django --mask',
        expectExit: 0,
      });
      await say(`\n${p.green('Demo finished')} in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`);
    } finally {
      if (values.keep) {
        await say(`Kept: ${projectDir} and ${home} (HOME=${home} for the password files).\n`);
      } else {
        await removePrivateDir(home);
        await fsp.rm(project, { recursive: true, force: true });
        await say(p.dim(`Removed the scratch directories.\n`));
      }
    }
    return 0;
  },
};
