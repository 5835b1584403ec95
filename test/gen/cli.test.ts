import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { Fernet } from '../../src/fernet/index.js';
import { DJANGO_SECRET_KEY_CHARS, checkDjangoSecretKey } from '../../src/gen/index.js';
import { runCli } from '../helpers/cli.js';

test('gen django-secret-key prints one key that passes Django checks', async () => {
  const r = await runCli(['gen', 'django-secret-key']);
  assert.equal(r.code, 0);
  assert.equal(r.stderr, '');
  const key = r.stdout.slice(0, -1);
  assert.equal(r.stdout.at(-1), '\n');
  assert.equal(key.length, 50);
  assert.ok([...key].every((c) => DJANGO_SECRET_KEY_CHARS.includes(c)));
  assert.deepEqual(checkDjangoSecretKey(key), []);
});

test('gen fernet --count 3: three distinct keys Fernet accepts', async () => {
  const r = await runCli(['gen', 'fernet', '--count', '3']);
  assert.equal(r.code, 0);
  const keys = r.stdout.trim().split('\n');
  assert.equal(new Set(keys).size, 3);
  for (const key of keys) assert.doesNotThrow(() => new Fernet(key));
});

test('gen base64 24, hex 16, token-urlsafe 48 and --bytes', async () => {
  const b64 = await runCli(['gen', 'base64', '24']);
  assert.equal(Buffer.from(b64.stdout.trim(), 'base64').length, 24);
  assert.match(b64.stdout, /^[A-Za-z0-9+/]{32}\n$/);
  const hex = await runCli(['gen', 'hex', '--bytes', '16']);
  assert.match(hex.stdout, /^[0-9a-f]{32}\n$/);
  const token = await runCli(['gen', 'token-urlsafe', '48']);
  assert.match(token.stdout, /^[A-Za-z0-9_-]{64}\n$/);
  const dflt = await runCli(['gen', 'base64']);
  assert.equal(Buffer.from(dflt.stdout.trim(), 'base64').length, 32);
});

test('gen password with --length, --charset and --exclude', async () => {
  const r = await runCli(['gen', 'password', '--length', '40', '--charset', 'url-safe', '--count', '5']);
  assert.equal(r.code, 0);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 5);
  for (const p of lines) assert.match(p, /^[A-Za-z0-9._~-]{40}$/);
  const ex = await runCli(['gen', 'password', '--length', '200', '--charset', 'ascii-printable', '--exclude', `'"\\$\``]);
  assert.match(ex.stdout, /^[\x21-\x7e]{200}\n$/);
  assert.doesNotMatch(ex.stdout, /['"\\$`]/);
});

test('--format and --name print values ready to paste', async () => {
  const dotenv = await runCli(['gen', 'django-secret-key', '--format', 'dotenv', '--name', 'SECRET_KEY']);
  assert.equal(dotenv.code, 0);
  assert.match(dotenv.stdout, /^SECRET_KEY='[^'\n]{50}'\n$/);
  const yaml = await runCli(['gen', 'django-secret-key', '--format', 'yaml', '--name', 'vault_secret_key']);
  const key = parse(yaml.stdout).vault_secret_key as string;
  assert.deepEqual(checkDjangoSecretKey(key), []);
  const systemd = await runCli(['gen', 'fernet', '--format', 'systemd', '--name', 'FIELD_ENCRYPTION_KEY']);
  assert.match(systemd.stdout, /^Environment="FIELD_ENCRYPTION_KEY=[A-Za-z0-9_-]{43}="\n$/);
  const shell = await runCli(['gen', 'hex', '8', '--format', 'shell']);
  assert.match(shell.stdout, /^'[0-9a-f]{16}'\n$/);
});

test('--json: kind, strength in bits, values and formatted values', async () => {
  const r = await runCli(['gen', 'password', '--length', '20', '--count', '2', '--format', 'yaml', '--json']);
  assert.equal(r.code, 0);
  const out = JSON.parse(r.stdout) as { kind: string; bits: number; values: string[]; format: string; formatted: string[] };
  assert.equal(out.kind, 'password');
  assert.equal(out.bits, 119); // 20 × log2(62)
  assert.equal(out.values.length, 2);
  assert.deepEqual(out.formatted, out.values.map((v) => `"${v}"`));
  const plain = JSON.parse((await runCli(['gen', 'fernet', '--json'])).stdout);
  assert.deepEqual(Object.keys(plain), ['kind', 'bits', 'values']);
});

test('usage errors: unknown kind, bad numbers, misplaced options (exit 2, one line)', async () => {
  const cases: [string[], RegExp][] = [
    [['gen'], /missing kind/],
    [['gen', 'ssh-key'], /unknown kind 'ssh-key'/],
    [['gen', 'base64', 'lots'], /N must be a positive integer/],
    [['gen', 'hex', '0'], /N must be a positive integer/],
    [['gen', 'fernet', '16'], /unexpected argument '16'/],
    [['gen', 'hex', '--length', '8'], /--length does not apply to hex/],
    [['gen', 'fernet', '--charset', 'alnum'], /apply to password only/],
    [['gen', 'fernet', '--name', 'X'], /--name needs --format/],
    [['gen', 'fernet', '--format', 'toml'], /--format must be one of yaml, dotenv, systemd, shell/],
    [['gen', 'fernet', '--count', '20000'], /--count must be at most/],
  ];
  for (const [argv, message] of cases) {
    const r = await runCli(argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.stderr, /^ERROR! gen: /);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, '');
  }
  // Out of range is a usage error too (exit 2), like a malformed number.
  const short = await runCli(['gen', 'password', '--length', '4']);
  assert.equal(short.code, 2);
  assert.match(short.stderr, /^ERROR! password: length must be an integer from 8/);
  const emptyCharset = await runCli(['gen', 'password', '--charset', 'digits', '--exclude', '0123456789']);
  assert.equal(emptyCharset.code, 2, emptyCharset.stderr);
});

test('a value that cannot be quoted portably prints nothing and fails', async () => {
  // x'$ always needs double quotes and contains $: no .env quoting is portable.
  const r = await runCli(['gen', 'password', '--charset', "x'$", '--length', '64', '--format', 'dotenv']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^ERROR! value cannot be quoted portably for a \.env file/);
});

test('values the format cannot quote are drawn again: ascii-printable passwords for a .env file always print', async () => {
  // About a third of 24-character ascii-printable passwords hold both a quote or backslash and a $.
  const r = await runCli(['gen', 'password', '--charset', 'ascii-printable', '--length', '24', '--format', 'dotenv', '--count', '300']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 300);
  for (const line of lines) assert.match(line, /^('[^'\n]{24}'|"([^"\\$]|\\["\\]){24}")$/);
  assert.ok(lines.some((l) => l.startsWith('"')), 'some values need double quotes');
});

test('gen --help lists every kind with examples', async () => {
  const r = await runCli(['gen', '--help']);
  assert.equal(r.code, 0);
  for (const kind of ['django-secret-key', 'fernet', 'base64', 'hex', 'token-urlsafe', 'password']) {
    assert.match(r.stdout, new RegExp(`\\n  ${kind}\\b`));
  }
  assert.match(r.stdout, /\nExamples:\n(  vaultsmith gen .+\n)+/);
});
