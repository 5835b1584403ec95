#!/usr/bin/env node
// Side-by-side benchmark: vaultsmith (`node dist/cli.js`) vs the real `ansible-vault`, same inputs,
// same flags, one run. Prints times, speed-up ratios and each child's peak RSS (measured by a tiny
// /usr/bin/python3 wrapper with getrusage(RUSAGE_CHILDREN)). `npm run bench` builds first.
//
//   BENCH_BIG_MB=64  size of the large file      BENCH_RUNS=3  runs per large-file case (median)
//   BENCH_VIEW_RUNS=7  runs of `view` (median)    BENCH_REKEY_FILES=200
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// The CLI runs from a private copy of dist/ made at start: other people's builds (npm test) replace
// dist/chunks while a bench is running, which would otherwise fail or mix two builds.
let cli = join(root, 'dist', 'cli.js');
const BIG_MB = Number(process.env.BENCH_BIG_MB) || 64;
const RUNS = Number(process.env.BENCH_RUNS) || 3;
const VIEW_RUNS = Number(process.env.BENCH_VIEW_RUNS) || 7;
const REKEY_FILES = Number(process.env.BENCH_REKEY_FILES) || 200;

// Runs argv[2:] with stdout to argv[1] (a path, or '-' to discard); prints JSON on stdout.
const MEASURE = String.raw`
import json, resource, subprocess, sys, time
out = subprocess.DEVNULL if sys.argv[1] == '-' else open(sys.argv[1], 'wb')
start = time.monotonic()
proc = subprocess.run(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.PIPE)
seconds = time.monotonic() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({'code': proc.returncode, 'seconds': seconds, 'cpu': usage.ru_utime + usage.ru_stime, 'peak_kb': usage.ru_maxrss, 'stderr': proc.stderr.decode('utf-8', 'replace')[-400:]}))
`;

/** Private XDG state/config directories for the run (the audit log and its key), set in main. */
const auditDirs = {};

function measure(argv, { stdoutPath = '-', cwd } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/python3', ['-c', MEASURE, stdoutPath, ...argv], {
      cwd,
      // The audit trail stays on (users pay for it too) but writes into the bench's scratch directory.
      env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', PAGER: 'cat', ...auditDirs },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.on('error', reject);
    child.on('close', () => {
      const result = JSON.parse(text);
      if (result.code !== 0) reject(new Error(`${argv.slice(0, 3).join(' ')} ... exited ${result.code}: ${result.stderr}`));
      else resolve(result);
    });
  });
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function sha256(path) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest('hex');
}

async function writeRandomFile(path, megabytes) {
  const fh = await fsp.open(path, 'w', 0o600);
  try {
    for (let i = 0; i < megabytes; i++) await fh.write(randomBytes(1024 * 1024));
  } finally {
    await fh.close();
  }
}

const tools = {
  vaultsmith: (args) => [process.execPath, cli, ...args],
  'ansible-vault': (args) => ['ansible-vault', ...args],
};

async function main() {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run 'npm run bench' (it builds first)`);
  if (spawnSync('sh', ['-c', 'command -v ansible-vault'], { stdio: 'ignore' }).status !== 0) {
    throw new Error('ansible-vault is not installed; nothing to compare against');
  }
  const dir = await fsp.mkdtemp(join(tmpdir(), 'vaultsmith-bench-'));
  Object.assign(auditDirs, { XDG_STATE_HOME: join(dir, 'xdg-state'), XDG_CONFIG_HOME: join(dir, 'xdg-config') });
  const rows = [];
  const started = Date.now();
  try {
    await fsp.cp(join(root, 'dist'), join(dir, 'dist'), { recursive: true });
    cli = join(dir, 'dist', 'cli.js');
    const { encryptVault } = await import(join(dir, 'dist', 'index.js'));
    const oldPass = join(dir, 'old.pass');
    const newPass = join(dir, 'new.pass');
    await fsp.writeFile(oldPass, `${randomBytes(16).toString('hex')}\n`, { mode: 0o600 });
    await fsp.writeFile(newPass, `${randomBytes(16).toString('hex')}\n`, { mode: 0o600 });
    const oldSecret = { label: 'default', password: Buffer.from((await fsp.readFile(oldPass, 'utf8')).trim()) };

    // 1. view of a small vault
    const small = join(dir, 'small.yml');
    const smallPlain = `db_password: ${randomBytes(12).toString('hex')}\napi_key: ${randomBytes(20).toString('base64')}\n`;
    await fsp.writeFile(small, await encryptVault(smallPlain, oldSecret), { mode: 0o600 });
    const view = {};
    for (const [name, argv] of Object.entries(tools)) {
      const times = [];
      const cpus = [];
      let peak = 0;
      for (let i = 0; i < VIEW_RUNS; i++) {
        const outPath = join(dir, `view-${name}.out`);
        const r = await measure(argv(['view', '--vault-password-file', oldPass, small]), { stdoutPath: outPath });
        if (!(await fsp.readFile(outPath, 'utf8')).includes(smallPlain.trim())) throw new Error(`${name} view printed something else`);
        times.push(r.seconds);
        cpus.push(r.cpu);
        peak = Math.max(peak, r.peak_kb);
      }
      view[name] = { seconds: median(times), cpu: median(cpus), peak_kb: peak };
    }
    rows.push({ task: `view small vault (median of ${VIEW_RUNS})`, ...view });

    // 2. encrypt and decrypt of a large file
    const big = join(dir, 'big.bin');
    await writeRandomFile(big, BIG_MB);
    const bigHash = await sha256(big);
    // Setup writes must not leak into the first measured command (write-back of a fresh 64 MB file
    // competes with that command's own I/O): flush them first. Runs alternate between the tools.
    spawnSync('sync');
    const samples = Object.fromEntries(Object.keys(tools).map((name) => [name, { encTimes: [], decTimes: [], encCpu: [], decCpu: [], encPeak: 0, decPeak: 0 }]));
    for (let i = 0; i < RUNS; i++) {
      for (const [name, argv] of Object.entries(tools)) {
        const s = samples[name];
        const vault = join(dir, `big-${name}.vault`);
        const plain = join(dir, `big-${name}.out`);
        await fsp.rm(vault, { force: true });
        await fsp.rm(plain, { force: true });
        spawnSync('sync');
        const e = await measure(argv(['encrypt', '--vault-password-file', oldPass, '--output', vault, big]));
        const d = await measure(argv(['decrypt', '--vault-password-file', oldPass, '--output', plain, vault]));
        if ((await sha256(plain)) !== bigHash) throw new Error(`${name}: decrypted ${BIG_MB} MB file differs`);
        s.encTimes.push(e.seconds);
        s.decTimes.push(d.seconds);
        s.encCpu.push(e.cpu);
        s.decCpu.push(d.cpu);
        s.encPeak = Math.max(s.encPeak, e.peak_kb);
        s.decPeak = Math.max(s.decPeak, d.peak_kb);
        await fsp.rm(plain, { force: true });
      }
    }
    const encrypt = {};
    const decrypt = {};
    for (const [name, s] of Object.entries(samples)) {
      encrypt[name] = { seconds: median(s.encTimes), cpu: median(s.encCpu), peak_kb: s.encPeak };
      decrypt[name] = { seconds: median(s.decTimes), cpu: median(s.decCpu), peak_kb: s.decPeak };
    }
    // Interop spot check: each tool decrypts the other's large vault.
    for (const [name, argv] of Object.entries(tools)) {
      const other = name === 'vaultsmith' ? 'ansible-vault' : 'vaultsmith';
      const plain = join(dir, `cross-${name}.out`);
      await measure(argv(['decrypt', '--vault-password-file', oldPass, '--output', plain, join(dir, `big-${other}.vault`)]));
      if ((await sha256(plain)) !== bigHash) throw new Error(`${name} could not decrypt the vault written by ${other}`);
      await fsp.rm(plain, { force: true });
    }
    rows.push({ task: `encrypt ${BIG_MB} MB file (median of ${RUNS})`, ...encrypt });
    rows.push({ task: `decrypt ${BIG_MB} MB file (median of ${RUNS})`, ...decrypt });

    // Rekey of the large vault (in place, one run each; vaultsmith streams it).
    const bigRekey = {};
    for (const [name, argv] of Object.entries(tools)) {
      const vault = join(dir, `big-${name}.vault`);
      const r = await measure(argv(['rekey', '--vault-password-file', oldPass, '--new-vault-password-file', newPass, vault]));
      if (r.code !== 0) throw new Error(`${name}: rekey of the ${BIG_MB} MB vault failed`);
      const plain = join(dir, `big-rekeyed-${name}.out`);
      await measure(argv(['decrypt', '--vault-password-file', newPass, '--output', plain, vault]));
      if ((await sha256(plain)) !== bigHash) throw new Error(`${name}: the rekeyed ${BIG_MB} MB vault does not decrypt to the original`);
      await fsp.rm(plain, { force: true });
      bigRekey[name] = { seconds: r.seconds, cpu: r.cpu, peak_kb: r.peak_kb };
    }
    await fsp.rm(big, { force: true });
    rows.push({ task: `rekey ${BIG_MB} MB vault (one run)`, ...bigRekey });

    // 3. rekey of many small files, one invocation each
    const rekey = {};
    const templates = await Promise.all(
      Array.from({ length: REKEY_FILES }, (_, i) => encryptVault(`secret_${i}: ${randomBytes(16).toString('hex')}\n`, oldSecret)),
    );
    for (const [name, argv] of Object.entries(tools)) {
      const setDir = join(dir, `rekey-${name}`);
      await fsp.mkdir(setDir);
      const files = templates.map((_, i) => join(setDir, `vault-${String(i).padStart(3, '0')}.yml`));
      await Promise.all(files.map((f, i) => fsp.writeFile(f, templates[i], { mode: 0o600 })));
      const r = await measure(argv(['rekey', '--vault-password-file', oldPass, '--new-vault-password-file', newPass, ...files]));
      const check = await measure(argv(['view', '--vault-password-file', newPass, files[REKEY_FILES - 1]]), { stdoutPath: join(dir, 'rekey-check.out') });
      if (check.code !== 0) throw new Error(`${name}: rekeyed file does not open with the new password`);
      rekey[name] = { seconds: r.seconds, cpu: r.cpu, peak_kb: r.peak_kb };
    }
    rows.push({ task: `rekey ${REKEY_FILES} small files (one run)`, ...rekey });
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
  printTable(rows);
  process.stdout.write(
    `\nnode ${process.version}; ${(Date.now() - started) / 1000}s total. Times are wall clock; CPU is user+sys of the child;` +
      ` RSS is the child's peak (ru_maxrss). vaultsmith fsyncs every file it writes, ansible-vault does not.\n`,
  );
}

function printTable(rows) {
  const header = ['task', 'vaultsmith', 'ansible-vault', 'speed-up', 'CPU vaultsmith', 'CPU ansible', 'CPU ratio', 'vaultsmith RSS', 'ansible RSS'];
  const body = rows.map((r) => [
    r.task,
    `${r.vaultsmith.seconds.toFixed(3)} s`,
    `${r['ansible-vault'].seconds.toFixed(3)} s`,
    `${(r['ansible-vault'].seconds / r.vaultsmith.seconds).toFixed(1)}x`,
    `${r.vaultsmith.cpu.toFixed(3)} s`,
    `${r['ansible-vault'].cpu.toFixed(3)} s`,
    `${(r['ansible-vault'].cpu / r.vaultsmith.cpu).toFixed(1)}x`,
    `${(r.vaultsmith.peak_kb / 1024).toFixed(0)} MiB`,
    `${(r['ansible-vault'].peak_kb / 1024).toFixed(0)} MiB`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  process.stdout.write(`${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${body.map(line).join('\n')}\n`);
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
