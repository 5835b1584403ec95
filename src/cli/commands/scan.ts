import { VaultsmithError } from '../../errors.js';
import { scanProject, type ScanFinding } from '../../services/scan.js';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../context.js';
import { renderTable, write, writeJson } from '../output.js';

const help = `Usage: vaultsmith scan [PATH...] [--staged] [--git-history] [--json]

Decrypts every environment's vault and looks for any current secret value (and the previous and
pending values kept by rotation) of 8+ characters in the working tree, the index (--staged) or every
blob of the git history (--git-history), also in base64, URL-encoded and JSON-escaped forms. It also
reports files that look like vaults but are not encrypted, vault password files inside the
repository, password files readable by group or others, and .gitignore gaps.
Findings name the file, line and secret, never the value. Exit status 4 when anything is found.
Each blob is read once and matched against all secrets at once (Aho-Corasick).

Options:
  PATH...           only these files or directories (default: the whole repository)
  --staged          scan what is staged for the next commit (used by the pre-commit hook)
  --git-history     scan every blob reachable from any ref
  --env E           only the secrets of environment E (repeatable; default: all)
  --manifest PATH   vaultsmith.yaml (default: searched upward from the current directory)
  --json            machine-readable report
  --quiet           print findings only (no summary line)

Examples:
  vaultsmith scan
  vaultsmith scan --staged
  vaultsmith scan --git-history --json
  vaultsmith scan config/ docs/
`;

function location(f: ScanFinding): string {
  return f.line ? `${f.file}:${f.line}` : f.file;
}

export const scanCommand: Command = {
  name: 'scan',
  summary: 'find plaintext secret values and vault hygiene problems in the tree, index or history',
  help,
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs('scan', args, {
      staged: { type: 'boolean' },
      'git-history': { type: 'boolean' },
      env: { type: 'string', multiple: true },
      manifest: { type: 'string' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
    });
    const report = await scanProject(ctx, {
      paths: positionals,
      staged: values.staged,
      gitHistory: values['git-history'],
      manifestPath: values.manifest,
      environments: values.env,
    });
    for (const w of report.warnings) await write(ctx.stderr, `[WARNING]: ${w}\n`);
    if (values.json) {
      await writeJson(ctx, report);
    } else if (report.findings.length) {
      const rows = report.findings.map((f) => [
        f.where,
        location(f),
        f.kind,
        f.secret ?? '-',
        f.kind === 'secret' ? `${f.encoding}${f.commits?.length ? ` in ${f.commits.map((c) => c.slice(0, 10)).join(',')}` : ''}` : f.message,
      ]);
      await write(ctx.stdout, renderTable(['WHERE', 'FILE', 'KIND', 'SECRET', 'DETAIL'], rows));
    }
    if (!values.quiet && !values.json) {
      const s = report.stats;
      await write(
        ctx.stderr,
        `scanned ${s.files} files (${(s.bytes / 1e6).toFixed(2)} MB) for ${report.secretsSearched} secrets in ${s.seconds.toFixed(3)} s: ` +
          `${Math.round(s.filesPerSecond)} files/s, ${s.megabytesPerSecond.toFixed(1)} MB/s\n`,
      );
    }
    if (report.findings.length) {
      throw new VaultsmithError('CHECK_FAILED', `scan found ${report.findings.length} problem${report.findings.length === 1 ? '' : 's'}`, {
        hint: 'remove the values, rotate every secret that reached git history, and re-run vaultsmith scan',
      });
    }
    return 0;
  },
};
