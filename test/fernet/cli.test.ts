import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Fernet } from '../../src/fernet/index.js';
import { encryptVault } from '../../src/vault/index.js';
import { runCli } from '../helpers/cli.js';

const AT = 1_700_000_000;
const envWith = (keys: string, extra: NodeJS.ProcessEnv = {}) => ({ PATH: process.env.PATH, FIELD_ENCRYPTION_KEY: keys, ...extra });

test('encrypt, decrypt and rotate stdin lines with keys from FIELD_ENCRYPTION_KEY', async () => {
  const [oldKey, newKey] = [Fernet.generateKey(), Fernet.generateKey()];
  const enc = await runCli(['fernet', 'encrypt'], { env: envWith(oldKey), stdin: 'alpha\r\n\nbeta' });
  assert.equal(enc.code, 0, enc.stderr);
  const tokens = enc.stdout.split('\n');
  assert.equal(tokens.length, 4); // three lines (the empty one too) and the final newline
  assert.equal(tokens[3], '');
  assert.equal(new Fernet(oldKey).decrypt(tokens[1]!).length, 0);

  const dec = await runCli(['fernet', 'decrypt'], { env: envWith(oldKey), stdin: `${tokens[0]}\n\n${tokens[2]}\n` });
  assert.equal(dec.code, 0, dec.stderr);
  assert.equal(dec.stdout, 'alpha\n\nbeta\n');

  const rot = await runCli(['fernet', 'rotate'], { env: envWith(`${newKey},${oldKey}`), stdin: enc.stdout });
  assert.equal(rot.code, 0, rot.stderr);
  const rotated = rot.stdout.trim().split('\n');
  assert.deepEqual(rotated.map((t) => new Fernet(newKey).decrypt(t).toString()), ['alpha', '', 'beta']);
  assert.equal(new Fernet(newKey).extractTimestamp(rotated[0]!), new Fernet(oldKey).extractTimestamp(tokens[0]!));
});

test('a bad line: blank output line, "ERROR! line N: invalid token" without content, non-zero exit after all lines', async () => {
  const key = Fernet.generateKey();
  const good = new Fernet(key).encrypt('kept');
  const tampered = good.slice(0, 30) + (good[30] === 'A' ? 'B' : 'A') + good.slice(31);
  const dec = await runCli(['fernet', 'decrypt'], { env: envWith(key), stdin: `${tampered}\nsome-row-content\n${good}\n` });
  assert.equal(dec.code, 1);
  assert.equal(dec.stdout, '\n\nkept\n');
  assert.equal(
    dec.stderr,
    'ERROR! line 1: invalid token\nERROR! line 2: invalid token\nERROR! 2 of 3 tokens failed (decrypt)\n',
  );
  assert.doesNotMatch(dec.stderr, /some-row-content|gAAAA/);
});

test('--ttl: expired tokens and tokens beyond the 60 s clock skew are refused', async () => {
  const key = Fernet.generateKey();
  const f = new Fernet(key);
  const old = f.encryptAtTime('old', AT);
  const fresh = f.encrypt('fresh');
  const future = f.encryptAtTime('future', Math.floor(Date.now() / 1000) + 600);
  const r = await runCli(['fernet', 'decrypt', '--ttl', '3600'], { env: envWith(key), stdin: `${old}\n${fresh}\n${future}\n` });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '\nfresh\n\n');
  assert.match(r.stderr, /^ERROR! line 1: invalid token\nERROR! line 3: invalid token\n/);
  const noTtl = await runCli(['fernet', 'decrypt'], { env: envWith(key), stdin: `${old}\n${future}\n` });
  assert.equal(noTtl.stdout, 'old\nfuture\n');
  const badTtl = await runCli(['fernet', 'decrypt', '--ttl', '-5'], { env: envWith(key), stdin: '' });
  assert.equal(badTtl.code, 2);
});

test('--json: values, binary plaintext as base64, line breaks kept, errors per line', async () => {
  const key = Fernet.generateKey();
  const f = new Fernet(key);
  const stdin = [f.encrypt('two\nlines'), f.encrypt(Buffer.from([0xff, 0x00])), '', 'junk'].join('\n');
  const r = await runCli(['fernet', 'decrypt', '--json'], { env: envWith(key), stdin });
  assert.equal(r.code, 1);
  assert.deepEqual(JSON.parse(r.stdout), {
    results: [
      { line: 1, value: 'two\nlines' },
      { line: 2, value_base64: '/wA=' },
      { line: 3, blank: true },
      { line: 4, error: 'invalid token' },
    ],
    failed: 1,
  });
  const text = await runCli(['fernet', 'decrypt'], { env: envWith(key), stdin: f.encrypt('two\nlines') });
  assert.equal(text.code, 1);
  assert.equal(text.stdout, '\n');
  assert.match(text.stderr, /line 1: plaintext contains a line break \(use --json\)/);
  assert.doesNotMatch(text.stdout + text.stderr, /two|lines\n/);
});

test('bad keys: wrong length and non-base64 are clear errors that never show the key', async () => {
  const short = Buffer.alloc(24, 3).toString('base64url');
  const cases = [short, 'this is not base64 !!!', `${Fernet.generateKey()},${short}`];
  for (const keys of cases) {
    const r = await runCli(['fernet', 'encrypt'], { env: envWith(keys), stdin: 'x\n' });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^ERROR! FIELD_ENCRYPTION_KEY: (the key|key 2 of 2) is not a valid Fernet key \(must be 32 url-safe base64-encoded bytes\)\n$/);
    assert.ok(!r.stderr.includes(short) && !r.stderr.includes('not base64'));
  }
  const missing = await runCli(['fernet', 'decrypt', '--key-env', 'NOPE_KEY'], { env: { PATH: process.env.PATH }, stdin: '' });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^ERROR! environment variable NOPE_KEY is not set\n/);
});

test('a key on the command line is refused by design, and stray arguments are not echoed', async () => {
  const key = Fernet.generateKey();
  for (const argv of [['--key', key], [`--key=${key}`]]) {
    const r = await runCli(['fernet', 'decrypt', ...argv], { env: envWith(key), stdin: '' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /never accepted on the command line/);
    assert.ok(!r.stderr.includes(key));
  }
  const stray = await runCli(['fernet', 'encrypt', 'my-plaintext-secret'], { env: envWith(key), stdin: '' });
  assert.equal(stray.code, 2);
  assert.doesNotMatch(stray.stderr, /my-plaintext-secret/);
  const unknown = await runCli(['fernet', 'scramble'], { env: envWith(key) });
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown action 'scramble'/);
});

test('keys from a vault: --vault FILE with the default key name or --key-name; wrong password fails', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vaultsmith-fernet-'));
  try {
    const [k1, k2] = [Fernet.generateKey(), Fernet.generateKey()];
    const password = Fernet.generateKey(); // any random text will do as a vault password
    const passwordFile = join(dir, 'vault-pass');
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    const yaml = `vault_field_encryption_key: "${k1}"\napp_fernet_keys:\n  - "${k2}"\n  - "${k1}"\n`;
    const vaultPath = join(dir, 'vault.yml');
    await writeFile(vaultPath, await encryptVault(yaml, { label: 'default', password: Buffer.from(password) }), { mode: 0o600 });
    const token = new Fernet(k1).encrypt('from the vault');

    // Reading a key from a vault is audited: the event names the vault key, never its value.
    const auditEnv = {
      PATH: process.env.PATH,
      VAULTSMITH_AUDIT_LOG: join(dir, 'audit.jsonl'),
      VAULTSMITH_AUDIT_KEY_FILE: join(dir, 'audit.key'),
    };
    const byDefaultName = await runCli(['fernet', 'decrypt', '--vault', 'vault.yml', '--vault-password-file', passwordFile], {
      cwd: dir,
      env: auditEnv,
      stdin: `${token}\n`,
    });
    assert.equal(byDefaultName.code, 0, byDefaultName.stderr);
    assert.equal(byDefaultName.stdout, 'from the vault\n');
    const auditLog = await readFile(join(dir, 'audit.jsonl'), 'utf8');
    const events = auditLog.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.command, 'fernet decrypt');
    assert.deepEqual(events[0]!.secrets, ['vault_field_encryption_key']);
    assert.equal(events[0]!.outcome, 'ok');
    assert.ok(!auditLog.includes(k1) && !auditLog.includes(password) && !auditLog.includes('from the vault'));

    const rotated = await runCli(
      ['fernet', 'rotate', '--vault', vaultPath, '--key-name', 'app_fernet_keys', '--vault-id', `default@${passwordFile}`],
      { env: auditEnv, stdin: `${token}\n` },
    );
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.equal(new Fernet(k2).decrypt(rotated.stdout.trim()).toString(), 'from the vault');

    const missingKey = await runCli(['fernet', 'decrypt', '--vault', vaultPath, '--key-name', 'nope', '--vault-password-file', passwordFile], {
      env: auditEnv,
      stdin: `${token}\n`,
    });
    assert.equal(missingKey.code, 1);
    assert.match(missingKey.stderr, /has no key 'nope'/);

    const wrongPassword = join(dir, 'wrong-pass');
    await writeFile(wrongPassword, 'not the password\n', { mode: 0o600 });
    const wrong = await runCli(['fernet', 'decrypt', '--vault', vaultPath, '--vault-password-file', wrongPassword], {
      env: auditEnv,
      stdin: `${token}\n`,
    });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^ERROR! Decryption failed/);
    assert.equal(wrong.stdout, '');

    // No password source and tokens on a piped stdin: refuse instead of reading a token as the password.
    const noSource = await runCli(['fernet', 'decrypt', '--vault', vaultPath], { env: auditEnv, stdin: `${token}\n` });
    assert.equal(noSource.code, 1);
    assert.match(noSource.stderr, /A vault password is required/);
    const prompt = await runCli(['fernet', 'decrypt', '--vault', vaultPath, '--ask-vault-pass'], { env: auditEnv, stdin: `${token}\n` });
    assert.equal(prompt.code, 2);
    assert.match(prompt.stderr, /cannot share the piped stdin/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('fernet --help explains the key sources and has examples', async () => {
  const r = await runCli(['fernet', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: vaultsmith fernet encrypt\|decrypt\|rotate/);
  assert.match(r.stdout, /--key-env VAR/);
  assert.match(r.stdout, /\nExamples:\n/);
});
