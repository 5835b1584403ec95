import { VaultsmithError } from '../../errors.js';
import { loadManifest } from '../../manifest/loader.js';
import { checkProject } from '../../services/check.js';
import { EXIT_CODES } from '../errors.js';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../context.js';
import { palette, renderTable, useColor, write, writeJson } from '../output.js';

const help = `Usage: vaultsmith check [ENV...] [--json] [--strict] [--manifest PATH]

Validates vaultsmith.yaml (errors carry file:line:col), then decrypts each environment's vault (all
by default) and checks it against the manifest. Reports, per environment and key:

  missing-key                  a required key is absent
  placeholder                  GENERATED-..., YOUR-..., CHANGE-ME, empty, or init's placeholder
  bad-format                   not a Fernet key / Django key / url / host / port / email / regex
  weak                         estimated strength below min_strength (bits)
  shared-value                 the same secret value in two environments
  template-mismatch            a derived value (e.g. a Redis URL) disagrees with its template
  unknown-key                  a vault key the manifest does not declare
  missing-value                a required variable has no value
  debug-in-production          DEBUG is true in a production environment
  password-file-permissions    a password file readable (script: writable) by group or others
  password-file-in-repository  a password file inside the repository and not git-ignored
  password-file-missing        a password file that does not exist
  vault-unreadable             the vault cannot be read, decrypted or parsed (e.g. git conflict markers)
  label-mismatch               the vault's label differs from the manifest's vault id

Every finding is an error except one warning: a person-supplied value (e.g. an API client id)
repeated in two environments (a repeated generated secret is an error). Values are never printed.
Exit status: 0 when there are no errors (warnings allowed unless --strict), ${EXIT_CODES.CHECK_FAILED} when
anything is wrong, ${EXIT_CODES.MANIFEST} for an invalid manifest.

Options:
  --json             print the findings as a JSON array of {env, key, kind, severity, message}
  --strict           warnings fail the check too
  --manifest PATH    vaultsmith.yaml (default: searched upward from the current directory)

Examples:
  vaultsmith check
  vaultsmith check production --json
`;

export const checkCommand: Command = {
  name: 'check',
  summary: 'check vaults against the manifest: placeholders, formats, shared values, password files',
  help,
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs('check', args, {
      json: { type: 'boolean' },
      strict: { type: 'boolean' },
      manifest: { type: 'string' },
    });
    const loaded = await loadManifest({ path: values.manifest, cwd: ctx.cwd });
    const result = await checkProject(loaded, positionals, ctx);
    const failed = result.errors > 0 || (values.strict === true && result.warnings > 0);
    if (values.json) {
      await writeJson(ctx, result.findings);
    } else {
      const p = palette(useColor(ctx));
      if (result.findings.length) {
        const rows = result.findings.map((f) => [
          f.env,
          f.key,
          f.kind,
          f.severity === 'error' ? p.red(f.severity) : p.yellow(f.severity),
          f.message,
        ]);
        await write(ctx.stdout, renderTable(['ENV', 'KEY', 'FINDING', 'SEVERITY', 'DETAIL'], rows));
      }
      const summary = `${result.environments.join(', ')}: ${result.errors} error${result.errors === 1 ? '' : 's'}, ${result.warnings} warning${result.warnings === 1 ? '' : 's'}`;
      await write(ctx.stdout, `${failed ? p.red('FAILED') : p.green('OK')} ${summary}\n`);
    }
    if (failed) {
      // The findings are already printed; the error line only states the outcome.
      throw new VaultsmithError('CHECK_FAILED', `check found ${result.errors} error(s) and ${result.warnings} warning(s)`);
    }
    return 0;
  },
};
