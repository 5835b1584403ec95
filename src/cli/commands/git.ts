import { VaultsmithError } from '../../errors.js';
import { installGit, mergeVaultFiles, showValuesRequested, textconvVault } from '../../services/git.js';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../context.js';
import { write, writeJson } from '../output.js';

const help = `Usage: vaultsmith git install [--command CMD] [--pattern GLOB]... [--manifest PATH] [--json]
       vaultsmith git textconv FILE            (run by git diff)
       vaultsmith git merge-driver O A B PATH  (run by git merge)

'git install' sets up, idempotently, in the current repository:
  - a pre-commit hook running 'vaultsmith scan --staged' that blocks commits adding secrets;
  - .gitattributes entries for every environment's vault file (and --pattern globs) and
    diff.vaultsmith.textconv, so 'git diff' and 'git log -p' show vault changes as decrypted YAML
    with values masked (VAULTSMITH_SHOW_VALUES=1 shows them; that read is audited);
  - merge.vaultsmith.driver, which three-way merges the decrypted YAML of a vault by key and
    re-encrypts it with the file's vault id. On a real conflict the file stays encrypted and its
    plaintext holds conflict markers, which 'check' and 'view' report.
Drivers find passwords through vaultsmith.yaml (the environment whose vault id label matches the
file's header) or ANSIBLE_VAULT_PASSWORD_FILE / ANSIBLE_VAULT_IDENTITY_LIST; they never prompt.

Options:
  --command CMD    how git should run vaultsmith (default: vaultsmith), e.g. "npx vaultsmith"
  --pattern GLOB   extra .gitattributes pattern for vault files (repeatable)
  --manifest PATH  vaultsmith.yaml (default: searched upward)
  --show-values    (textconv) print real values instead of masked fingerprints
  --json           machine-readable output (install)

Examples:
  vaultsmith git install
  vaultsmith git install --pattern '**/vault.yml' --command 'npx vaultsmith'
  git diff inventory/production/group_vars/vault.yml
  VAULTSMITH_SHOW_VALUES=1 git log -p -- inventory/production/group_vars/vault.yml
`;

export const gitCommand: Command = {
  name: 'git',
  summary: 'git integration: pre-commit leak guard, decrypted diffs, key-wise vault merges',
  help,
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs('git', args, {
      command: { type: 'string' },
      pattern: { type: 'string', multiple: true },
      manifest: { type: 'string' },
      'show-values': { type: 'boolean' },
      json: { type: 'boolean' },
    });
    const [sub, ...rest] = positionals;
    if (sub === 'install') {
      if (rest.length) throw new VaultsmithError('USAGE', `git install: unexpected argument '${rest[0]}'`);
      const result = await installGit(ctx, { command: values.command, patterns: values.pattern, manifestPath: values.manifest });
      if (values.json) await writeJson(ctx, result);
      else {
        const lines = result.steps.map((s) => `${s.changed ? 'changed' : 'ok     '}  ${s.what}`);
        await write(ctx.stdout, `${lines.join('\n')}\n`);
      }
      return 0;
    }
    if (sub === 'textconv') {
      if (rest.length !== 1) throw new VaultsmithError('USAGE', 'git textconv: expected exactly one FILE');
      const text = await textconvVault(ctx, rest[0]!, { showValues: Boolean(values['show-values']) || showValuesRequested(ctx.env) });
      await write(ctx.stdout, text);
      return 0;
    }
    if (sub === 'merge-driver') {
      if (rest.length !== 4) throw new VaultsmithError('USAGE', 'git merge-driver: expected BASE OURS THEIRS PATH (%O %A %B %P)');
      const [base, ours, theirs, path] = rest as [string, string, string, string];
      const outcome = await mergeVaultFiles(ctx, { base, ours, theirs, path });
      if (outcome.conflicts.length) {
        await write(ctx.stderr, `vaultsmith: ${path}: conflicting changes to ${outcome.conflicts.join(', ')}; the vault now holds conflict markers (vaultsmith edit ${path} to resolve)\n`);
        return 1;
      }
      return 0;
    }
    throw new VaultsmithError('USAGE', sub ? `git: unknown subcommand '${sub}'` : 'git: missing subcommand', { hint: "see 'vaultsmith git --help'" });
  },
};
