import { VaultsmithError } from '../../errors.js';
import { PRESET_NAMES, isPresetName } from '../../manifest/presets.js';
import { readLine } from '../../secrets/index.js';
import { displayPath, initProject } from '../../services/init.js';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../context.js';
import { palette, renderTable, useColor, write, writeJson } from '../output.js';

const help = `Usage: vaultsmith init [--preset ${PRESET_NAMES.join('|')}] [--dir D] [--project NAME] [--yes] [--json]

Creates a project: vaultsmith.yaml from a preset, one vault password file per environment OUTSIDE
the repository (default ~/.vault_pass_<env>, 48 random characters, mode 0600), a .gitignore line
covering .vault_pass_*, and each environment's encrypted vault (labelled with the environment's
vault id). Secrets with a generator get fresh values, independently per environment; values only a
person can supply (API client ids, SMTP passwords, S3 keys) are written as YOUR-... placeholders
that 'vaultsmith check' reports until you 'vaultsmith set' them.

Nothing is ever overwritten: an existing manifest, password file or vault is kept, so running init
again only creates what is missing. '~' is the HOME of the environment init runs in.

Options:
  --preset NAME     minimal (default) or senex (the operations guide's full contract)
  --dir D           project directory for vaultsmith.yaml (default: current directory)
  --project NAME    project name written into the manifest (default: the directory's name)
  -y, --yes         do not ask for confirmation
  --json            print the result as JSON

Examples:
  vaultsmith init --preset senex --yes
  vaultsmith init --preset senex --dir ~/src/senextrader
  vaultsmith check
`;

export const initCommand: Command = {
  name: 'init',
  summary: 'create vaultsmith.yaml, password files and encrypted vaults for each environment',
  help,
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs('init', args, {
      preset: { type: 'string' },
      dir: { type: 'string' },
      project: { type: 'string' },
      yes: { type: 'boolean', short: 'y' },
      json: { type: 'boolean' },
    });
    if (positionals.length) throw new VaultsmithError('USAGE', `init: unexpected argument '${positionals[0]}'`, { hint: 'use --dir D for the directory' });
    const preset = values.preset ?? 'minimal';
    if (!isPresetName(preset)) throw new VaultsmithError('USAGE', `init: unknown preset '${preset}' (available: ${PRESET_NAMES.join(', ')})`);
    if (values.project !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(values.project)) {
      throw new VaultsmithError('USAGE', 'init: --project must be letters, digits, ".", "_" or "-"');
    }
    if (!values.yes) {
      await write(ctx.stderr, `Create a vaultsmith project (preset ${preset}) in ${values.dir ?? ctx.cwd}, with password files under ~ and encrypted vaults? [y/N] `);
      const answer = (await readLine(ctx.stdin))?.toString('utf8').trim().toLowerCase();
      if (answer !== 'y' && answer !== 'yes') {
        throw new VaultsmithError('USAGE', 'init: not confirmed; nothing was created', { hint: 'pass --yes to skip the question' });
      }
    }
    const result = await initProject({ dir: values.dir, preset, project: values.project }, ctx);
    if (values.json) {
      await writeJson(ctx, result);
      return 0;
    }
    const p = palette(useColor(ctx));
    const status = (s: string) => (s === 'created' || s === 'added' ? p.green(s) : p.dim(s));
    const rows: string[][] = [
      ['manifest', displayPath(result.manifestPath, ctx.env), status(result.manifest)],
      ['.gitignore', `${displayPath(result.gitignore.path, ctx.env)} (.vault_pass_*)`, status(result.gitignore.status)],
    ];
    for (const env of result.environments) {
      rows.push([`${env.name} password`, displayPath(env.passwordPath, ctx.env), status(env.password)]);
      rows.push([`${env.name} vault`, displayPath(env.vaultPath, ctx.env), status(env.vault)]);
    }
    let out = renderTable(['WHAT', 'PATH', 'STATUS'], rows);
    for (const env of result.environments) {
      if (env.generated.length) out += `\n${env.name}: generated ${env.generated.length} secrets (${env.generated.join(', ')})`;
      if (env.placeholders.length) out += `\n${env.name}: ${p.yellow('to supply')}: ${env.placeholders.join(', ')}`;
    }
    out += `\n\nNext: 'vaultsmith check' lists what is left to do; 'vaultsmith set ENV KEY --value-stdin' supplies a value.\n`;
    await write(ctx.stdout, out);
    return 0;
  },
};
