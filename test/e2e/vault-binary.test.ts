/**
 * The built binary (`node dist/cli.js`) as a black box: exit codes, stdout/stderr, stdin piping, a
 * big file through the streaming path, and plaintext cleanup when `edit` is killed with SIGTERM.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { requireTool } from '../helpers/tools.js';
import { sandbox, type Sandbox } from '../secrets/kit.js';

const CLI = resolve('dist/cli.js');
let box: Sandbox;
let pw: { path: string; password: string };

before(() => {
  // `npm test` builds first; a lone run of this file builds if needed.
  if (!existsSync(CLI)) {
    const b = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
    assert.equal(b.status, 0, 'build failed');
  }
  box = sandbox('vaultsmith-bin-');
  pw = box.passwordFile('bin.pass');
});
after(() => box.cleanup());

function bin(args: string[], input?: string | Buffer, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: box.dir,
    env: { ...box.env, ...env },
    input: input ?? '',
    maxBuffer: 256 * 1024 * 1024,
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}

/** Runs the binary under /usr/bin/python3 and reads the child's peak RSS (ru_maxrss, KiB); output discarded. */
function peakRssKiB(args: string[], stdinPath = '/dev/null', env: NodeJS.ProcessEnv = {}): { code: number; kib: number } {
  const script =
    'import resource, subprocess, sys\n' +
    'r = subprocess.run(sys.argv[2:], stdin=open(sys.argv[1], "rb"), stdout=subprocess.DEVNULL)\n' +
    'print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)';
  const r = spawnSync('/usr/bin/python3', ['-c', script, stdinPath, process.execPath, CLI, ...args], {
    cwd: box.dir,
    env: { ...box.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const [code, kib] = r.stdout.trim().split(' ').map(Number) as [number, number];
  return { code, kib };
}

describe('vaultsmith binary', () => {
  test('stdin → encrypt → decrypt → stdout, exit 0', () => {
    const enc = bin(['encrypt', '--vault-password-file', pw.path], 'piped: yes\n');
    assert.equal(enc.code, 0, enc.stderr);
    assert.match(enc.stdout.toString(), /^\$ANSIBLE_VAULT;1\.1;AES256\n/);
    const dec = bin(['decrypt', '--vault-password-file', pw.path], enc.stdout);
    assert.equal(dec.code, 0, dec.stderr);
    assert.equal(dec.stdout.toString(), 'piped: yes\n');
  });

  test('a failure is one ERROR! line, exit 1, no stack trace, input untouched', () => {
    const f = box.file('bin-plain.yml', 'a: 1\n');
    const r = bin(['decrypt', f, '--vault-password-file', pw.path]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^ERROR! input is not vault encrypted data\. .*bin-plain\.yml is not a vault encrypted file\n/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.equal(box.read(f).toString(), 'a: 1\n');
  });

  test('a full disk behind stdout or a file used as a directory: one clear ERROR! line, exit 1', () => {
    const f = box.file('bin-full.yml', 'full: disk\n');
    assert.equal(bin(['encrypt', f, '--vault-password-file', pw.path]).code, 0);
    const before = box.read(f);
    const full = spawnSync('sh', ['-c', `'${process.execPath}' '${CLI}' view '${f}' --vault-password-file '${pw.path}' > /dev/full`], {
      cwd: box.dir,
      env: box.env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(full.status, 1, full.stderr);
    assert.equal(full.stderr, 'ERROR! cannot write to the output: no space left on device\n');
    const notDir = bin(['decrypt', f, '--output', `${f}/out.txt`, '--vault-password-file', pw.path]);
    assert.equal(notDir.code, 1);
    assert.match(notDir.stderr, /^ERROR! cannot \w+ .*bin-full\.yml\/out\.txt: a path component is not a directory\n$/);
    assert.deepEqual(box.read(f), before);
  });

  test('a big file goes through the streaming core and round-trips', () => {
    const data = randomBytes(17 * 1024 * 1024);
    const f = box.file('big.bin', data);
    const enc = bin(['encrypt', f, '--vault-password-file', pw.path]);
    assert.equal(enc.code, 0, enc.stderr);
    assert.ok(statSync(f).size > data.length * 2, 'not encrypted');
    const view = bin(['decrypt', f, '--output', '-', '--vault-password-file', pw.path]);
    assert.equal(view.code, 0, view.stderr);
    assert.ok(view.stdout.equals(data), 'streamed plaintext differs');
    // view streams a big vault too (a newline is added only when the text lacks one), in bounded memory.
    const shown = bin(['view', f, '--vault-password-file', pw.path]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.ok(shown.stdout.equals(data[data.length - 1] === 0x0a ? data : Buffer.concat([data, Buffer.from('\n')])), 'view differs');
    const peak = peakRssKiB(['view', f, '--vault-password-file', pw.path]);
    assert.equal(peak.code, 0);
    assert.ok(peak.kib < 160 * 1024, `view of a ${statSync(f).size >> 20} MiB vault peaked at ${peak.kib >> 10} MiB`);
    // Piped in, a big vault is spooled to an unlinked temp file and streamed: bounded memory, no litter.
    const tmp = join(box.dir, 'stdin-tmp');
    mkdirSync(tmp);
    const piped = bin(['decrypt', '--vault-password-file', pw.path], readFileSync(f), { TMPDIR: tmp });
    assert.equal(piped.code, 0, piped.stderr);
    assert.ok(piped.stdout.equals(data), 'plaintext of a piped big vault differs');
    const pipedPeak = peakRssKiB(['decrypt', '--vault-password-file', pw.path], f, { TMPDIR: tmp });
    assert.equal(pipedPeak.code, 0);
    assert.ok(pipedPeak.kib < 160 * 1024, `decrypt of a piped ${statSync(f).size >> 20} MiB vault peaked at ${pipedPeak.kib >> 10} MiB`);
    const pipedView = bin(['view', '-', '--vault-password-file', pw.path], readFileSync(f), { TMPDIR: tmp });
    assert.equal(pipedView.code, 0, pipedView.stderr);
    assert.ok(pipedView.stdout.subarray(0, data.length).equals(data), 'view of a piped big vault differs');
    assert.deepEqual(readdirSync(tmp), []);
    const dec = bin(['decrypt', f, '--vault-password-file', pw.path]);
    assert.equal(dec.code, 0, dec.stderr);
    assert.ok(readFileSync(f).equals(data));
  });

  test('on a terminal: view pages through $PAGER and encrypt reports success on stderr', (t) => {
    if (!requireTool(t, 'script')) return;
    const f = box.file('tty.yml', 'paged: yes\n');
    const onTty = (command: string) =>
      spawnSync('script', ['-qec', command, '/dev/null'], {
        cwd: box.dir,
        env: { ...box.env, PAGER: 'tr a-z A-Z' },
        encoding: 'utf8',
        timeout: 60_000,
      });
    const enc = onTty(`'${process.execPath}' '${CLI}' encrypt '${f}' --vault-password-file '${pw.path}'`);
    assert.equal(enc.status, 0, enc.stdout);
    assert.match(enc.stdout, /Encryption successful/);
    const view = onTty(`'${process.execPath}' '${CLI}' view '${f}' --vault-password-file '${pw.path}'`);
    assert.equal(view.status, 0, view.stdout);
    assert.match(view.stdout, /PAGED: YES/);
  });

  test('SIGTERM during a big decrypt: no plaintext temp file is left, the vault is unchanged', async () => {
    const dir = join(box.dir, 'sigdec');
    mkdirSync(dir);
    const v = box.file('sigdec/big.vault', randomBytes(32 * 1024 * 1024));
    assert.equal(bin(['encrypt', v, '--vault-password-file', pw.path]).code, 0);
    const before = box.read(v);
    const child = spawn(process.execPath, [CLI, 'decrypt', v, '--vault-password-file', pw.path], { cwd: box.dir, env: box.env, stdio: 'ignore' });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
    let sawTemp = false;
    for (let i = 0; i < 2000 && child.exitCode === null && !sawTemp; i++) {
      sawTemp = readdirSync(dir).some((n) => n.includes('.vs-'));
      if (!sawTemp) await sleep(2);
    }
    assert.ok(sawTemp, 'the decrypt finished before a temp file was seen');
    child.kill('SIGTERM');
    const { code, signal } = await exited;
    assert.ok(signal === 'SIGTERM' || code === 143, `exit ${code} ${signal}`);
    assert.deepEqual(readdirSync(dir), ['big.vault']);
    assert.deepEqual(box.read(v), before);
  });

  test('SIGTERM during a rekey of a small and a big vault: both unchanged, no temp or lock file left, TMPDIR empty', async () => {
    const dir = join(box.dir, 'sigrekey');
    const tmp = join(box.dir, 'sigrekey-tmp');
    mkdirSync(dir);
    mkdirSync(tmp);
    const small = box.file('sigrekey/a-small.yml', 'k: v\n');
    const big = box.file('sigrekey/big.vault', randomBytes(40 * 1024 * 1024)); // spills its ciphertext to TMPDIR
    assert.equal(bin(['encrypt', small, big, '--vault-password-file', pw.path]).code, 0);
    const [smallBefore, bigBefore] = [box.read(small), box.read(big)];
    const newPw = box.passwordFile('sigrekey-new.pass');
    const child = spawn(process.execPath, [CLI, 'rekey', small, big, '--vault-password-file', pw.path, '--new-vault-password-file', newPw.path], {
      cwd: box.dir,
      env: { ...box.env, TMPDIR: tmp },
      stdio: 'ignore',
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
    // Wait until both outputs are being staged: the small one complete, the big one streaming.
    let staged = false;
    for (let i = 0; i < 4000 && child.exitCode === null && !staged; i++) {
      const names = readdirSync(dir);
      staged = names.some((n) => n.startsWith('.a-small.yml.vs-')) && names.some((n) => n.includes('.big.vault.vs-'));
      if (!staged) await sleep(2);
    }
    assert.ok(staged, 'the rekey finished before both temp files were seen');
    child.kill('SIGTERM');
    const { code, signal } = await exited;
    assert.ok(signal === 'SIGTERM' || code === 143, `exit ${code} ${signal}`);
    assert.deepEqual(readdirSync(dir).sort(), ['a-small.yml', 'big.vault']);
    assert.deepEqual(readdirSync(tmp), []);
    assert.deepEqual(box.read(small), smallBefore);
    assert.deepEqual(box.read(big), bigBefore);
  });

  test('SIGTERM during edit wipes the plaintext copy and leaves the vault unchanged', async () => {
    const v = box.file('sig.yml', 'secret: value\n');
    assert.equal(bin(['encrypt', v, '--vault-password-file', pw.path]).code, 0);
    const before = box.read(v);
    const shm = join(box.dir, 'shm');
    mkdirSync(shm, { mode: 0o700 });
    const marker = join(box.dir, 'editing');
    const editor = box.file('hang-editor.sh', `#!/bin/sh\necho "$1" > '${marker}'\nexec sleep 30\n`, 0o700);
    const child = spawn(process.execPath, [CLI, 'edit', v, '--vault-password-file', pw.path], {
      cwd: box.dir,
      env: { ...box.env, EDITOR: editor, VAULTSMITH_TMPDIR: shm },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    for (let i = 0; i < 400 && !existsSync(marker); i++) await sleep(25);
    const plaintextPath = readFileSync(marker, 'utf8').trim();
    assert.ok(plaintextPath.startsWith(shm), plaintextPath);
    assert.equal(readFileSync(plaintextPath, 'utf8'), 'secret: value\n');
    child.kill('SIGTERM');
    const code = await exited;
    assert.notEqual(code, 0);
    assert.match(stderr, /^ERROR! edit interrupted by SIGTERM; the vault was left unchanged\n/);
    assert.equal(existsSync(plaintextPath), false);
    assert.deepEqual(readdirSync(shm), []);
    assert.deepEqual(box.read(v), before);
    assert.equal(existsSync(`${v}.vaultsmith-lock`), false);
  });
});
