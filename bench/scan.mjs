// Leak-scan throughput: `vaultsmith scan --git-history` (one Aho-Corasick pass per blob, blobs
// streamed through one `git cat-file --batch`) against `git grep -F -f <patterns> HEAD` over the same
// generated repository and the same patterns (every secret plus its encoded variants).
// Run: node scripts/build.mjs && node bench/scan.mjs [--blobs N]   (default 10,000 blobs)
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const blobsArg = process.argv.indexOf('--blobs');
const BLOBS = blobsArg > 0 ? Number(process.argv[blobsArg + 1]) : 10_000;
const SECRETS = 40;

const words = 'import export const return function value config server client request response token user host port path file data cache queue worker task settings database'.split(' ');
function sourceFile(i) {
  // Code-like text, 1-8 KB, deterministic enough to compress like a real repository.
  const lines = [];
  const n = 20 + (i * 7919) % 180;
  for (let l = 0; l < n; l++) {
    const w = (k) => words[(i * 31 + l * 17 + k * 13) % words.length];
    lines.push(`    ${w(0)}_${l} = ${w(1)}(${w(2)}, "${w(3)}-${(i * l) % 997}")  # ${w(4)} ${w(5)}`);
  }
  return `${lines.join('\n')}\n`;
}

function run(cmd, args, opts) {
  const started = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { maxBuffer: 1 << 30, ...opts });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.error) throw r.error;
  return { ...r, seconds };
}

const base = mkdtempSync(join(tmpdir(), 'vs-bench-scan-'));
try {
  const repo = join(base, 'repo');
  const outside = join(base, 'outside');
  mkdirSync(repo);
  mkdirSync(outside);
  const env = {
    PATH: process.env.PATH,
    HOME: outside,
    VAULTSMITH_AUDIT: 'off',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'bench',
    GIT_AUTHOR_EMAIL: 'bench@example.com',
    GIT_COMMITTER_NAME: 'bench',
    GIT_COMMITTER_EMAIL: 'bench@example.com',
  };
  const git = (...args) => {
    const r = spawnSync('git', args, { cwd: repo, env, encoding: 'utf8', maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`git ${args[0]}: ${r.stderr}`);
    return r.stdout;
  };
  git('init', '-q', '-b', 'main');

  // Secrets and the vault (encrypted with the built library, password file outside the repo).
  const lib = await import(new URL('../dist/index.js', import.meta.url).href);
  const values = {};
  for (let s = 0; s < SECRETS; s++) values[`secret_${s}`] = randomBytes(18).toString('base64url');
  const password = randomBytes(24).toString('hex');
  writeFileSync(join(outside, 'pass'), `${password}\n`, { mode: 0o600 });
  const yamlText = Object.entries(values).map(([k, v]) => `${k}: "${v}"`).join('\n') + '\n';
  mkdirSync(join(repo, 'group_vars'));
  writeFileSync(join(repo, 'group_vars', 'vault.yml'), await lib.encryptVault(yamlText, { label: 'prod', password: Buffer.from(password) }));
  writeFileSync(
    join(repo, 'vaultsmith.yaml'),
    `version: 1\nproject: bench\nenvironments:\n  prod:\n    vault: group_vars/vault.yml\n    vault_id: prod@${join(outside, 'pass')}\n`,
  );
  writeFileSync(join(repo, '.gitignore'), '.vault_pass*\n.env\n');

  // The generated repository: BLOBS files in 100 directories, two of them with planted secrets.
  let bytes = 0;
  for (let i = 0; i < BLOBS; i++) {
    const dir = join(repo, 'src', `m${i % 100}`);
    if (i < 100) mkdirSync(dir, { recursive: true });
    let text = sourceFile(i);
    if (i === 4242) text += `PASSWORD = "${values.secret_7}"\n`;
    if (i === 777) text += `auth: ${Buffer.from(`user:${values.secret_3}`).toString('base64')}\n`;
    bytes += text.length;
    writeFileSync(join(dir, `f${i}.py`), text);
  }
  git('add', '-A');
  git('commit', '-q', '-m', 'generated');
  git('repack', '-a', '-d', '-q'); // real repositories are packed; loose objects would measure zlib+open()
  const blobCount = Number(git('ls-tree', '-r', 'HEAD').split('\n').filter(Boolean).length);

  // Patterns for git grep: the same texts vaultsmith searches (plain + encoded variants).
  const { encodedVariants } = lib;
  const patterns = new Set();
  for (const v of Object.values(values)) {
    if (encodedVariants) for (const e of encodedVariants(v)) patterns.add(e.text);
    else patterns.add(v);
  }
  const patternFile = join(outside, 'patterns.txt');
  writeFileSync(patternFile, `${[...patterns].join('\n')}\n`, { mode: 0o600 });

  // Warm the page cache and git's object store once.
  run('git', ['grep', '-c', '-F', 'zzzz-not-there', 'HEAD'], { cwd: repo, env });

  const ours = run(process.execPath, [CLI, 'scan', '--git-history', '--json'], { cwd: repo, env, encoding: 'utf8' });
  if (ours.status !== 4) throw new Error(`vaultsmith scan exited ${ours.status}: ${ours.stderr}`);
  const report = JSON.parse(ours.stdout);
  const grep = run('git', ['grep', '-l', '-F', '-f', patternFile, 'HEAD'], { cwd: repo, env, encoding: 'utf8' });
  const grepFiles = grep.stdout.split('\n').filter(Boolean).length;
  const grep1 = run('git', ['grep', '--threads=1', '-l', '-F', '-f', patternFile, 'HEAD'], { cwd: repo, env, encoding: 'utf8' });

  const mb = report.stats.bytes / 1e6;
  const fmt = (label, seconds, found, note = '') =>
    `${label.padEnd(40)} ${seconds.toFixed(3).padStart(7)} s  ${(mb / seconds).toFixed(1).padStart(7)} MB/s  ${Math.round(report.stats.files / seconds)
      .toString()
      .padStart(7)} blobs/s  found ${found}${note}`;
  console.log(`scan benchmark: ${blobCount} blobs in HEAD, ${mb.toFixed(1)} MB, ${Object.keys(values).length} secrets -> ${patterns.size} patterns`);
  console.log(fmt('vaultsmith scan --git-history (engine)', report.stats.seconds, `${report.findings.length} findings`));
  console.log(fmt('vaultsmith scan --git-history (process)', ours.seconds, `${report.findings.length} findings`, '  incl. start-up, manifest, vault decrypt'));
  console.log(fmt('git grep -F -f patterns HEAD', grep.seconds, `${grepFiles} files`, '  multi-threaded'));
  console.log(fmt('git grep --threads=1 -F -f patterns HEAD', grep1.seconds, `${grepFiles} files`));
  console.log(`ratio (git grep, threads=1 / vaultsmith engine): ${(grep1.seconds / report.stats.seconds).toFixed(2)}x (above 1: vaultsmith faster)`);
  void bytes;
} finally {
  rmSync(base, { recursive: true, force: true });
}
