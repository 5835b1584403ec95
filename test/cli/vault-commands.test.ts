/**
 * The ansible-vault-compatible commands, in-process: round trips, flags, and for every malformed
 * input the one-line error, the non-zero exit and the byte-identical input file.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync, copyFileSync, symlinkSync, lstatSync, chownSync, statSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { run } from '../../src/cli/run.js';
import { STREAM_THRESHOLD_BYTES } from '../../src/services/vault-files.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startForeignProcess } from '../helpers/tools.js';
import { sandbox, newPassword, type Sandbox } from '../secrets/kit.js';

const VECTORS = '/work/shared/vectors/ansible';
let box: Sandbox;
let pw: { path: string; password: string };
let other: { path: string; password: string };

before(() => {
  box = sandbox();
  pw = box.passwordFile('main.pass');
  other = box.passwordFile('other.pass');
});
after(() => box.cleanup());

/** Temp files the writers left in the sandbox (there must be none after any command). */
const leftovers = () => readdirSync(box.dir).filter((n) => /\.vs-[0-9a-f]+\.(tmp|staged)$/.test(n));

const cli = (argv: string[], stdin?: string, env: NodeJS.ProcessEnv = {}) =>
  runCli(argv, { cwd: box.dir, env: { ...box.env, ...env }, ...(stdin === undefined ? {} : { stdin }) });

/** A failed command: exit 1 (or given), one `ERROR!` line, no stack, no password, input untouched. */
function assertFailed(r: CliResult, pattern: RegExp, options: { code?: number; untouched?: [string, Buffer][] } = {}): void {
  assert.equal(r.code, options.code ?? 1, `exit code; stderr: ${r.stderr}`);
  assert.match(r.stderr, /^ERROR! /);
  assert.match(r.stderr.split('\n')[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'stack trace printed');
  for (const secret of [pw.password, other.password]) {
    assert.ok(!r.stderr.includes(secret) && !r.stdout.includes(secret), 'a password was printed');
  }
  for (const [path, bytes] of options.untouched ?? []) assert.deepEqual(readFileSync(path), bytes, `${path} changed`);
}

describe('encrypt / decrypt', () => {
  test('round trip in place: encrypt keeps the mode, decrypt writes the plaintext 0600 (as ansible-vault); 1.1 header', async () => {
    const f = box.file('plain.yml', 'db_password: s3cret\n', 0o640);
    const enc = await cli(['encrypt', f, '--vault-password-file', pw.path]);
    assert.equal(enc.code, 0, enc.stderr);
    const vault = box.read(f).toString();
    assert.match(vault, /^\$ANSIBLE_VAULT;1\.1;AES256\n([0-9a-f]{80}\n)*[0-9a-f]{1,80}\n$/);
    assert.equal(box.mode(f), 0o640);
    const dec = await cli(['decrypt', f, '--vault-password-file', pw.path]);
    assert.equal(dec.code, 0, dec.stderr);
    assert.equal(box.read(f).toString(), 'db_password: s3cret\n');
    assert.equal(box.mode(f), 0o600);
  });

  test('decrypting a world-readable vault never leaves a world-readable plaintext (in place or --output)', async () => {
    const f = box.file('readable.yml', 'k: v\n', 0o644);
    await cli(['encrypt', f, '--vault-password-file', pw.path]);
    assert.equal(box.mode(f), 0o644);
    const existing = box.file('readable.out', 'old\n', 0o666);
    const out = await cli(['decrypt', f, '--output', existing, '--vault-password-file', pw.path]);
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual([box.read(existing).toString(), box.mode(existing)], ['k: v\n', 0o600]);
    const inPlace = await cli(['decrypt', f, '--vault-password-file', pw.path]);
    assert.equal(inPlace.code, 0, inPlace.stderr);
    assert.deepEqual([box.read(f).toString(), box.mode(f)], ['k: v\n', 0o600]);
    assert.deepEqual(leftovers(), []);
  });

  test('--vault-id label@file writes a 1.2 header with the label', async () => {
    const f = box.file('labelled.yml', 'a: 1\n');
    const r = await cli(['encrypt', f, '--vault-id', `prod@${pw.path}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(box.read(f).toString(), /^\$ANSIBLE_VAULT;1\.2;AES256;prod\n/);
  });

  test("stdin to stdout with '-' and --output -", async () => {
    const enc = await cli(['encrypt', '-', '--output', '-', '--vault-password-file', pw.path], 'from stdin\n');
    assert.equal(enc.code, 0, enc.stderr);
    assert.match(enc.stdout, /^\$ANSIBLE_VAULT;1\.1;AES256\n/);
    const dec = await cli(['decrypt', '--vault-password-file', pw.path], enc.stdout);
    assert.equal(dec.code, 0, dec.stderr);
    assert.equal(dec.stdout, 'from stdin\n');
  });

  test('--output FILE leaves the input alone and creates the output 0600', async () => {
    const f = box.file('keep.yml', 'x: 1\n', 0o644);
    const r = await cli(['encrypt', f, '--output', 'keep.vault', '--vault-password-file', pw.path]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(box.read(f).toString(), 'x: 1\n');
    assert.equal(box.mode('keep.vault'), 0o600);
    const d = await cli(['decrypt', 'keep.vault', '--output', '-', '--vault-password-file', pw.path]);
    assert.equal(d.stdout, 'x: 1\n');
  });

  test('several files per call; a bad one means none is written', async () => {
    const a = box.file('multi-a.yml', 'a: 1\n');
    const b = box.file('multi-b.yml', 'b: 2\n');
    const r = await cli(['encrypt', a, b, '--vault-password-file', pw.path]);
    assert.equal(r.code, 0, r.stderr);
    const [va, vb] = [box.read(a), box.read(b)];
    const plain = box.file('multi-c.yml', 'not a vault\n');
    const bad = await cli(['decrypt', a, b, plain, '--vault-password-file', pw.path]);
    assertFailed(bad, /input is not vault encrypted data\. .*multi-c\.yml is not a vault encrypted file/, {
      untouched: [
        [a, va],
        [b, vb],
      ],
    });
    const ok = await cli(['decrypt', a, b, '--vault-password-file', pw.path]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(box.read(a).toString() + box.read(b).toString(), 'a: 1\nb: 2\n');
  });

  test('a big (streamed) file that fails after a good small one: no file is changed, no temp file left', async () => {
    // Above STREAM_THRESHOLD_BYTES the password is only checked while streaming, after the
    // small files were prepared: every output is staged and renamed only when all succeeded.
    const small = box.file('batch-small.yml', 'small: 1\n');
    const big = box.file('batch-big.bin', randomBytes(STREAM_THRESHOLD_BYTES + 1024));
    assert.equal((await cli(['encrypt', small, '--vault-password-file', pw.path])).code, 0);
    assert.equal((await cli(['encrypt', big, '--vault-password-file', other.path])).code, 0);
    const [smallVault, bigVault] = [box.read(small), box.read(big)];
    const r = await cli(['decrypt', small, big, '--vault-password-file', pw.path]);
    assertFailed(r, /Decryption failed \(no vault secrets were found that could decrypt\) on .*batch-big\.bin/, {
      untouched: [
        [small, smallVault],
        [big, bigVault],
      ],
    });
    // The same batch in the other order, and encrypt of a plain file next to a vault.
    assertFailed(await cli(['decrypt', big, small, '--vault-password-file', pw.path]), /batch-big\.bin/, { untouched: [[small, smallVault]] });
    assert.deepEqual(leftovers(), []);
    const ok = await cli(['decrypt', small, big, '--vault-password-file', pw.path, '--vault-password-file', other.path]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(box.read(small).toString(), 'small: 1\n');
    assert.equal(box.read(big).length, STREAM_THRESHOLD_BYTES + 1024);
    assert.equal(box.mode(big), 0o600);
  });

  test('encrypting a vault is refused: "input is already encrypted"', async () => {
    const f = box.file('twice.yml', 'z: 1\n');
    await cli(['encrypt', f, '--vault-password-file', pw.path]);
    const before = box.read(f);
    assertFailed(await cli(['encrypt', f, '--vault-password-file', pw.path]), /input is already encrypted/, { untouched: [[f, before]] });
  });

  test('wrong password keeps ansible-vault\'s message and adds the tried and file labels', async () => {
    const f = box.file('wrong.yml', 'w: 1\n');
    await cli(['encrypt', f, '--vault-id', `prod@${pw.path}`]);
    const before = box.read(f);
    const r = await cli(['decrypt', f, '--vault-id', `dev@${other.path}`, '--vault-id', `qa@${other.path}`]);
    assertFailed(r, /^ERROR! Decryption failed \(no vault secrets were found that could decrypt\) on .*wrong\.yml.*tried vault ids: dev, qa; file vault id: prod/, {
      untouched: [[f, before]],
    });
    // The matching label is tried first, but any secret may open the file (ANSIBLE_VAULT_ID_MATCH off).
    const ok = await cli(['view', f, '--vault-id', `dev@${pw.path}`]);
    assert.equal(ok.stdout, 'w: 1\n');
    const strict = await cli(['view', f, '--vault-id', `dev@${pw.path}`], undefined, { ANSIBLE_VAULT_ID_MATCH: 'true' });
    assertFailed(strict, /Decryption failed \(no vault secrets were found that could decrypt\)/);
  });

  test('malformed vaults: clear error, exit 1, file untouched', async () => {
    const good = box.file('good.yml', 'g: 1\n');
    await cli(['encrypt', good, '--vault-password-file', pw.path]);
    const text = box.read(good).toString();
    const cases: [string, string][] = [
      ['bad-hex.yml', text.replace(/\n[0-9a-f]/, '\nzz')],
      ['truncated.yml', text.slice(0, 60)],
      ['bad-version.yml', text.replace('1.1', '9.9')],
      ['bad-cipher.yml', text.replace('AES256', 'AES')],
      ['header-only.yml', '$ANSIBLE_VAULT;1.1;AES256\n'],
    ];
    for (const [name, content] of cases) {
      const p = box.file(name, content);
      const before = box.read(p);
      for (const cmd of ['decrypt', 'view', 'rekey', 'edit']) {
        const extra = cmd === 'rekey' ? ['--new-vault-password-file', other.path] : [];
        const r = await cli([cmd, p, '--vault-password-file', pw.path, ...extra], undefined, { EDITOR: 'true' });
        assertFailed(r, new RegExp(`^ERROR! .*${name}.*\\S`), { untouched: [[p, before]] });
        assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('ERROR!')).length, 1, `${name} ${cmd}: ${r.stderr}`);
      }
    }
  });

  test('missing input file and option misuse', async () => {
    // Files are named as typed, like ansible-vault does.
    assertFailed(await cli(['decrypt', 'nope.yml', '--vault-password-file', pw.path]), /^ERROR! Unable to read source file \(nope\.yml\): No such file or directory$/);
    box.file('typed.yml', 'plain\n');
    assertFailed(await cli(['view', 'typed.yml', '--vault-password-file', pw.path]), /^ERROR! input is not vault encrypted data\. typed\.yml is not a vault encrypted file$/);
    const a = box.file('o1.yml', '1\n');
    const b = box.file('o2.yml', '2\n');
    assertFailed(await cli(['encrypt', a, b, '--output', 'x', '--vault-password-file', pw.path]), /At most one input file may be used with the --output option/, {
      code: 2,
      untouched: [[a, Buffer.from('1\n')]],
    });
    assertFailed(await cli(['encrypt', a, '--ask-vault-pass', '--vault-password-file', pw.path]), /not allowed with argument/, { code: 2 });
    assertFailed(await cli(['encrypt', a, '--vault-id', 'a;b@x']), /The character ';' is not allowed in vault ids/, { code: 2 });
    assertFailed(await cli(['encrypt', a, '--no-such-flag']), /Unknown option/, { code: 2 });
    // An output that cannot be written is named as given, not by our temp file.
    assertFailed(await cli(['encrypt', a, '--output', 'no-dir/out.yml', '--vault-password-file', pw.path]), /^ERROR! cannot write \/.*\/no-dir\/out\.yml: no such file or directory$/, {
      untouched: [[a, Buffer.from('1\n')]],
    });
  });

  test('several encrypt ids need --encrypt-vault-id (or ANSIBLE_VAULT_ENCRYPT_IDENTITY)', async () => {
    const f = box.file('choose.yml', 'c: 1\n');
    const ids = ['--vault-id', `dev@${other.path}`, '--vault-id', `prod@${pw.path}`];
    assertFailed(await cli(['encrypt', f, ...ids]), /The vault-ids dev,prod are available to encrypt\. Specify the vault-id to encrypt with --encrypt-vault-id/, {
      code: 2,
      untouched: [[f, Buffer.from('c: 1\n')]],
    });
    assertFailed(await cli(['encrypt', f, ...ids, '--encrypt-vault-id', 'qa']), /Did not find a match for --encrypt-vault-id=qa/);
    const r = await cli(['encrypt', f, ...ids], undefined, { ANSIBLE_VAULT_ENCRYPT_IDENTITY: 'prod' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(box.read(f).toString(), /^\$ANSIBLE_VAULT;1\.2;AES256;prod\n/);
  });

  test('passwords from a piped prompt and from ANSIBLE_VAULT_PASSWORD_FILE', async () => {
    const enc = await cli(['encrypt', '--vault-id', 'ci@prompt', '--output', '-', 'prompt.yml'].slice(0, 5).concat(['-']), `${pw.password}\n${pw.password}\nbody\n`);
    assert.equal(enc.code, 0, enc.stderr);
    assert.match(enc.stdout, /;ci\n/);
    const dec = await cli(['decrypt', '-'], enc.stdout, { ANSIBLE_VAULT_PASSWORD_FILE: pw.path });
    assert.equal(dec.code, 0, dec.stderr);
    assert.equal(dec.stdout, 'body\n');
    assertFailed(await cli(['decrypt', '-', '--ask-vault-pass'], ''), /EOFError \(ctrl-d\) on prompt/);
    // A new password piped once: the hint says it is asked twice (not "pipe the password").
    const once = box.file('prompt-once.yml', 'once: 1\n');
    const single = await cli(['encrypt', once, '--vault-id', 'ci@prompt'], `${pw.password}\n`);
    assertFailed(single, /EOFError \(ctrl-d\) on prompt for \(ci\)/, { untouched: [[once, Buffer.from('once: 1\n')]] });
    assert.match(single.stderr, /\nhint: a new password is asked twice: pipe it on two lines/);
  });
});

describe('progress', () => {
  test('many files on a terminal stderr get a [n/N] progress line; pipes get none', async () => {
    const files = Array.from({ length: 6 }, (_, i) => box.file(`prog-${i}.yml`, `n: ${i}\n`));
    const stdout = new PassThrough();
    const stderr = Object.assign(new PassThrough(), { isTTY: true });
    const err: Buffer[] = [];
    stderr.on('data', (d: Buffer) => err.push(d));
    stdout.resume();
    const code = await run(['encrypt', ...files, '--vault-password-file', pw.path], {
      stdin: Readable.from([]),
      stdout,
      stderr,
      env: box.env,
      cwd: box.dir,
    });
    assert.equal(code, 0);
    assert.match(Buffer.concat(err).toString(), /\[6\/6\] .*prog-\d\.yml\n$/);
    const piped = await cli(['decrypt', ...files, '--vault-password-file', pw.path]);
    assert.equal(piped.code, 0);
    assert.equal(piped.stderr, '');
  });
});

describe('view', () => {
  test('prints each file, adding a newline only when missing (as ansible-vault)', async () => {
    const a = box.file('v1.yml', 'no newline');
    const b = box.file('v2.yml', 'line\n');
    await cli(['encrypt', a, b, '--vault-password-file', pw.path]);
    const r = await cli(['view', a, b, '--vault-password-file', pw.path]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'no newline\nline\n');
  });

  test('a YAML file with inline !vault values is shown decrypted, comments kept (Ansible vector)', async () => {
    const p = join(box.dir, 'inline.yml');
    copyFileSync(`${VECTORS}/roles_test_vault_embedded_vars_main.yml`, p);
    const before = box.read(p);
    const secret = box.passwordFile('vector.pass', 'test-vault-password');
    const r = await cli(['view', p, '--vault-password-file', secret.path]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Setec Astronomy/);
    assert.doesNotMatch(r.stdout, /\$ANSIBLE_VAULT/);
    assert.match(r.stdout, /^# If you use normal 'ansible-vault create'/);
    assert.deepEqual(box.read(p), before);
    assertFailed(await cli(['view', p, '--vault-password-file', pw.path]), /Decryption failed \(no vault secrets were found that could decrypt\)/);
  });

  test('inline values in nested mappings and lists; a value no secret opens and bad YAML name the file, never a value', async () => {
    const block = async (value: string, id: string) => {
      const r = await cli(['encrypt_string', '--vault-id', id], value);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.replace(/^!vault \|\n/, '');
    };
    const indent = (text: string, spaces: number) => text.replace(/^ {10}/gm, ' '.repeat(spaces));
    const nested = await block('nested-value', `default@${pw.path}`);
    const listed = await block('listed: value', `default@${pw.path}`);
    const foreign = await block('foreign-value', `prod@${other.path}`);
    const yaml = `# kept\napp:\n  db:\n    password: !vault |\n${indent(nested, 6)}\n  list:\n    - plain\n    - !vault |\n${indent(listed, 8)}\nother: !vault |\n${indent(foreign, 4)}\n`;
    const p = box.file('nested-inline.yml', yaml);
    const both = await cli(['view', 'nested-inline.yml', '--vault-password-file', pw.path, '--vault-id', `prod@${other.path}`]);
    assert.equal(both.code, 0, both.stderr);
    assert.equal(both.stdout, "# kept\napp:\n  db:\n    password: nested-value\n  list:\n    - plain\n    - \"listed: value\"\nother: foreign-value\n");
    const one = await cli(['view', 'nested-inline.yml', '--vault-password-file', pw.path]);
    assertFailed(one, /^ERROR! Decryption failed \(no vault secrets were found that could decrypt\) on nested-inline\.yml \(value of other\); tried vault ids: default; file vault id: prod$/, {
      untouched: [[p, Buffer.from(yaml)]],
    });
    assert.ok(!one.stdout.includes('nested-value'), 'partial output printed');
    box.file('broken-inline.yml', `db_password: plain-secret-in-line\nbad: [unclosed\nx: !vault |\n${indent(nested, 2)}\n`);
    const broken = await cli(['view', 'broken-inline.yml', '--vault-password-file', pw.path]);
    assertFailed(broken, /^ERROR! broken-inline\.yml: cannot parse YAML: .* at line \d+, column \d+$/);
    assert.ok(!broken.stderr.includes('plain-secret-in-line'));
  });

  test('view of a plain file without vault values fails like ansible-vault', async () => {
    const p = box.file('plain-view.yml', 'a: 1\n');
    assertFailed(await cli(['view', p, '--vault-password-file', pw.path]), /input is not vault encrypted data/);
  });
});

describe('encrypt_string / decrypt-string', () => {
  test("output has encrypt_string's shape and decrypts back; --name and --stdin-name", async () => {
    const named = await cli(['encrypt_string', '--vault-id', `prod@${pw.path}`, '--name', 'db_password', 'hunter2']);
    assert.equal(named.code, 0, named.stderr);
    assert.match(named.stdout, /^db_password: !vault \|\n {10}\$ANSIBLE_VAULT;1\.2;AES256;prod\n( {10}[0-9a-f]{1,80}\n)* {10}[0-9a-f]{1,80}$/);
    const back = await cli(['decrypt-string', '--vault-id', `prod@${pw.path}`], named.stdout);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(back.stdout, 'hunter2');
    const stdinNamed = await cli(['encrypt-string', '--stdin-name', 'api_key', '--vault-password-file', pw.path], 'from-stdin');
    assert.match(stdinNamed.stdout, /^api_key: !vault \|\n {10}\$ANSIBLE_VAULT;1\.1;AES256\n/);
    const arg = await cli(['decrypt_string', stdinNamed.stdout, '--vault-password-file', pw.path]);
    assert.equal(arg.stdout, 'from-stdin');
  });

  test('-n repeated names the strings in order, with delimiter comments on stderr', async () => {
    const r = await cli(['encrypt_string', '-n', 'user', '-n', 'port', 'alice', '5432', '--vault-password-file', pw.path]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^user: !vault \|\n[\s\S]*\nport: !vault \|\n/);
    assert.match(r.stderr, /# The encrypted version of variable \("user", the string #1 from the command line args\)\./);
    assert.match(r.stderr, /# The encrypted version of variable \("port", the string #2 from the command line args\)\./);
    const view = box.file('strings.yml', `${r.stdout}\n`);
    const shown = await cli(['view', view, '--vault-password-file', pw.path]);
    assert.match(shown.stdout, /user: alice/);
    assert.match(shown.stdout, /port: "?5432"?/);
  });

  test('input errors are one line and never echo a plaintext', async () => {
    assertFailed(await cli(['encrypt_string', '--vault-password-file', pw.path], ''), /stdin was empty, not encrypting/);
    assertFailed(await cli(['encrypt_string', '--prompt', '-', '--vault-password-file', pw.path]), /The --prompt option is not supported if also reading input from stdin/, { code: 2 });
    assertFailed(await cli(['encrypt_string', '', '--vault-password-file', pw.path]), /The plaintext provided from the command line args was empty/);
    assertFailed(await cli(['decrypt-string', '--vault-password-file', pw.path], 'foo: bar\n'), /vault|not/i);
  });

  test('--prompt reads the name and string from a piped stdin', async () => {
    const r = await cli(['encrypt_string', '--prompt', '--vault-password-file', pw.path], 'token\nvalue-123\n');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^token: !vault \|\n/);
    const back = await cli(['decrypt-string', '--vault-password-file', pw.path], r.stdout);
    assert.equal(back.stdout, 'value-123');
  });
});

describe('rekey', () => {
  test('the new password opens the file, the old one does not; mode is kept', async () => {
    const f = box.file('rekey.yml', 'r: 1\n', 0o640);
    await cli(['encrypt', f, '--vault-password-file', pw.path]);
    const r = await cli(['rekey', f, '--vault-password-file', pw.path, '--new-vault-id', `new@${other.path}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, 'Rekey successful\n');
    assert.match(box.read(f).toString(), /^\$ANSIBLE_VAULT;1\.2;AES256;new\n/);
    assert.equal(box.mode(f), 0o640);
    assert.equal((await cli(['view', f, '--vault-password-file', other.path])).stdout, 'r: 1\n');
    assertFailed(await cli(['view', f, '--vault-password-file', pw.path]), /Decryption failed/);
  });

  test('rekey with the wrong old password changes nothing', async () => {
    const f = box.file('rekey-bad.yml', 'r: 2\n');
    await cli(['encrypt', f, '--vault-password-file', pw.path]);
    const before = box.read(f);
    assertFailed(await cli(['rekey', f, '--vault-password-file', other.path, '--new-vault-password-file', pw.path]), /Decryption failed/, {
      untouched: [[f, before]],
    });
  });

  test('a batch with a big (streamed) vault: a wrong password for one file changes neither; then both rekey', async () => {
    // ~4.2 MB of plaintext makes ~17 MiB of vault text: above STREAM_THRESHOLD_BYTES, so rekeyed as a stream.
    const bigPlain = randomBytes(Math.ceil(STREAM_THRESHOLD_BYTES / 4) + 99);
    const big = box.file('rekey-big.bin', bigPlain);
    const small = box.file('rekey-small.yml', 's: 1\n');
    await cli(['encrypt', big, '--vault-password-file', pw.path]);
    await cli(['encrypt', small, '--vault-id', `other@${other.path}`]);
    assert.ok(box.read(big).length >= STREAM_THRESHOLD_BYTES);
    const [bigBefore, smallBefore] = [box.read(big), box.read(small)];
    // Only `other` is given: the small file opens, the big one does not.
    assertFailed(await cli(['rekey', small, big, '--vault-id', `other@${other.path}`, '--new-vault-password-file', pw.path]), /Decryption failed/, {
      untouched: [
        [big, bigBefore],
        [small, smallBefore],
      ],
    });
    assert.deepEqual(leftovers(), []);
    const fresh = box.passwordFile('rekey-big-fresh.pass');
    const r = await cli(['rekey', small, big, '--vault-password-file', pw.path, '--vault-password-file', other.path, '--new-vault-password-file', fresh.path]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(leftovers(), []);
    const out = join(box.dir, 'rekey-big.out');
    assert.equal((await cli(['decrypt', big, '--output', out, '--vault-password-file', fresh.path])).code, 0);
    assert.ok(readFileSync(out).equals(bigPlain));
    assert.equal((await cli(['view', small, '--vault-password-file', fresh.path])).stdout, 's: 1\n');
  });

  test('a file locked by another vaultsmith command (edit, set, rotate) is not rekeyed, nor encrypted or decrypted in place', async (t) => {
    const f = box.file('rekey-locked.yml', 'l: 1\n');
    const g = box.file('rekey-unlocked.yml', 'u: 1\n');
    await cli(['encrypt', f, g, '--vault-password-file', pw.path]);
    const [fBefore, gBefore] = [box.read(f), box.read(g)];
    // Another live process holds the lock, as `edit` does while the editor is open.
    const holder = startForeignProcess();
    t.after(holder.stop);
    const lock = box.file('rekey-locked.yml.vaultsmith-lock', `${holder.pid}\n`);
    const r = await cli(['rekey', g, f, '--vault-password-file', pw.path, '--new-vault-password-file', other.path]);
    assertFailed(r, /rekey-locked\.yml is locked by process \d+/, { code: 5, untouched: [[f, fBefore], [g, gBefore]] });
    assertFailed(await cli(['decrypt', f, '--vault-password-file', pw.path]), /is locked by process/, { code: 5, untouched: [[f, fBefore]] });
    assert.ok(existsSync(lock), 'the other holder keeps its lock');
    assert.ok(!existsSync(`${g}.vaultsmith-lock`), 'locks taken before the conflict are released');
    rmSync(lock);
    const ok = await cli(['rekey', g, f, '--vault-password-file', pw.path, '--new-vault-password-file', other.path]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((await cli(['view', f, '--vault-password-file', other.path])).stdout, 'l: 1\n');
    assert.deepEqual(readdirSync(box.dir).filter((n) => n.endsWith('.vaultsmith-lock')), []);
  });

  test('the new password can come from the prompt, asked twice', async () => {
    const f = box.file('rekey-prompt.yml', 'r: 3\n');
    await cli(['encrypt', f, '--vault-password-file', pw.path]);
    const fresh = newPassword();
    const r = await cli(['rekey', f, '--vault-password-file', pw.path], `${fresh}\n${fresh}\n`);
    assert.equal(r.code, 0, r.stderr);
    const freshFile = box.passwordFile('fresh.pass', fresh);
    assert.equal((await cli(['view', f, '--vault-password-file', freshFile.path])).stdout, 'r: 3\n');
  });
});

describe('create', () => {
  test('creates a 0600 vault from what the editor wrote; refuses an existing file', async () => {
    const editor = box.file('write-editor.sh', '#!/bin/sh\nprintf "created: yes\\n" > "$1"\n', 0o700);
    const r = await cli(['create', 'sub/new.yml', '--vault-id', `prod@${pw.path}`], undefined, { EDITOR: editor });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /\[WARNING\]: .*sub does not exist, creating/);
    assert.equal(box.mode('sub/new.yml'), 0o600);
    assert.match(box.read('sub/new.yml').toString(), /^\$ANSIBLE_VAULT;1\.2;AES256;prod\n/);
    assert.equal((await cli(['view', 'sub/new.yml', '--vault-password-file', pw.path])).stdout, 'created: yes\n');
    const before = box.read('sub/new.yml');
    assertFailed(await cli(['create', 'sub/new.yml', '--vault-password-file', pw.path], undefined, { EDITOR: editor }), /exists, please use 'edit' instead/, {
      untouched: [[join(box.dir, 'sub/new.yml'), before]],
    });
    assertFailed(await cli(['create', 'a.yml', 'b.yml', '--vault-password-file', pw.path]), /create can take only one filename argument/, { code: 2 });
    box.file('plain-file', 'x\n');
    assertFailed(await cli(['create', 'plain-file/new.yml', '--vault-password-file', pw.path], undefined, { EDITOR: editor }), /^ERROR! cannot create .*plain-file\/new\.yml: .*plain-file is not a directory$/);
  });

  test('an editor that fails creates nothing', async () => {
    const failing = box.file('fail-editor.sh', '#!/bin/sh\necho data > "$1"\nexit 1\n', 0o700);
    const r = await cli(['create', 'never.yml', '--vault-password-file', pw.path], undefined, { EDITOR: failing });
    assertFailed(r, /the editor \(.*fail-editor\.sh\) exited with status 1/, { code: 6 });
    assert.equal(existsSync(join(box.dir, 'never.yml')), false);
  });
});

describe('help', () => {
  test('every vault command has usage, options and examples', async () => {
    for (const name of ['create', 'view', 'edit', 'encrypt', 'decrypt', 'rekey', 'encrypt_string', 'encrypt-string', 'decrypt-string']) {
      const r = await cli([name, '--help']);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^Usage: vaultsmith /);
      assert.match(r.stdout, /\nOptions:\n/);
      assert.match(r.stdout, /\nExamples:\n/);
    }
  });
});


describe('audit trail', () => {
  test('view, decrypt-string and a denied view each record one event with names, never values', async () => {
    const log = join(box.dir, 'audit', 'audit.jsonl');
    const env = { VAULTSMITH_AUDIT_LOG: log };
    const f = box.file('audited.yml', 'db_password: audited-value-1\napi_key: audited-value-2\n');
    await cli(['encrypt', f, '--vault-id', `prod@${pw.path}`]);
    assert.equal((await cli(['view', f, '--vault-id', `prod@${pw.path}`], undefined, env)).code, 0);
    const block = await cli(['encrypt_string', '-n', 'token', 'audited-value-3', '--vault-password-file', pw.path]);
    assert.equal((await cli(['decrypt-string', '--vault-password-file', pw.path], block.stdout, env)).code, 0);
    assert.equal((await cli(['view', f, '--vault-password-file', other.path], undefined, env)).code, 1);
    const text = readFileSync(log, 'utf8');
    const events = text.trim().split('\n').map((l) => JSON.parse(l) as { command: string; outcome: string; label: string; secrets: string[] });
    assert.deepEqual(events.map((e) => [e.command, e.outcome]), [
      ['view', 'ok'],
      ['decrypt-string', 'ok'],
      ['view', 'denied'],
    ]);
    assert.equal(events[0]!.label, 'prod');
    assert.deepEqual(events[0]!.secrets, ['api_key', 'db_password']);
    assert.deepEqual(events[1]!.secrets, ['token']);
    for (const value of ['audited-value-1', 'audited-value-2', 'audited-value-3', pw.password, other.password]) {
      assert.ok(!text.includes(value), 'a value reached the audit log');
    }
  });

  test('view of a big (streamed) vault: a wrong password is audited as denied and reveals nothing', async () => {
    const log = join(box.dir, 'audit-big', 'audit.jsonl');
    const env = { VAULTSMITH_AUDIT_LOG: log };
    const data = randomBytes(STREAM_THRESHOLD_BYTES + 10);
    const big = box.file('audit-big.bin', data);
    assert.equal((await cli(['encrypt', big, '--vault-password-file', pw.path])).code, 0);
    const small = box.file('audit-small.yml', 'small: 1\n');
    assert.equal((await cli(['encrypt', small, '--vault-password-file', other.path])).code, 0);
    const denied = await cli(['view', small, big, '--vault-password-file', other.path], undefined, env);
    assertFailed(denied, /Decryption failed .* on .*audit-big\.bin/);
    assert.equal(denied.stdout, '', 'the small file was shown before the big one failed');
    const ok = await cli(['view', big, '--vault-password-file', pw.path], undefined, env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(Buffer.byteLength(ok.stdout, 'latin1') > 0, true);
    const events = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { command: string; outcome: string });
    assert.deepEqual(events.map((e) => [e.command, e.outcome]), [
      ['view', 'denied'],
      ['view', 'ok'],
    ]);
  });

  test('an unwritable audit sink refuses the command before anything is revealed', async () => {
    const f = box.file('audit-refused.yml', 'hidden: refused-value\n');
    await cli(['encrypt', f, '--vault-password-file', pw.path]);
    box.file('not-a-dir', 'x');
    const r = await cli(['view', f, '--vault-password-file', pw.path], undefined, { VAULTSMITH_AUDIT_LOG: join(box.dir, 'not-a-dir', 'audit.jsonl') });
    assertFailed(r, /^ERROR! audit log/, { code: 7 });
    assert.ok(!r.stdout.includes('refused-value'));
  });
});

describe('file identity', () => {
  test('a symlink is followed: the target is replaced, the link stays a link', async () => {
    const target = box.file('link-target.yml', 'via: link\n');
    const link = join(box.dir, 'link.yml');
    symlinkSync(target, link);
    const r = await cli(['encrypt', link, '--vault-password-file', pw.path]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.match(box.read(target).toString(), /^\$ANSIBLE_VAULT;/);
  });

  test('--output onto a symlink writes through it (as ansible-vault): the link stays a link', async () => {
    const vault = box.file('out-link-src.yml', 'through: link\n');
    await cli(['encrypt', vault, '--vault-password-file', pw.path]);
    const target = box.file('out-link-target.txt', 'old\n', 0o644);
    const link = join(box.dir, 'out-link.txt');
    symlinkSync(target, link);
    const r = await cli(['decrypt', vault, '--output', link, '--vault-password-file', pw.path]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.equal(box.read(target).toString(), 'through: link\n');
    assert.equal(box.mode(target), 0o600);
    const e = await cli(['encrypt', target, '--output', link, '--vault-password-file', pw.path]);
    assert.equal(e.code, 0, e.stderr);
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.match(box.read(target).toString(), /^\$ANSIBLE_VAULT;/);
  });

  test('rekey and edit keep the owner and group (as root)', async (t) => {
    if (process.getuid?.() !== 0) {
      t.skip('needs root to chown');
      return;
    }
    const f = box.file('owned.yml', 'o: 1\n', 0o640);
    await cli(['encrypt', f, '--vault-password-file', pw.path]);
    chownSync(f, 4321, 4322);
    const r = await cli(['rekey', f, '--vault-password-file', pw.path, '--new-vault-password-file', other.path]);
    assert.equal(r.code, 0, r.stderr);
    const st = statSync(f);
    assert.deepEqual([st.uid, st.gid, st.mode & 0o777], [4321, 4322, 0o640]);
    const ed = box.file('owner-editor.sh', '#!/bin/sh\necho "o: 2" > "$1"\n', 0o700);
    const e = await cli(['edit', f, '--vault-password-file', other.path], undefined, { EDITOR: ed });
    assert.equal(e.code, 0, e.stderr);
    const after = statSync(f);
    assert.deepEqual([after.uid, after.gid, after.mode & 0o777], [4321, 4322, 0o640]);
  });
});
