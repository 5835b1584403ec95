// Streaming variants agree with the in-memory codec byte for byte, handle chunk boundaries and the
// spill-to-disk path, and never touch the output file when they fail.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs, { promises as fsp, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { DecryptionFailedError } from '../../src/errors.js';
import {
  decryptVault,
  decryptVaultFile,
  decryptVaultStream,
  encryptVault,
  encryptVaultFile,
  encryptVaultStream,
  rekeyVaultFile,
} from '../../src/vault/index.js';
import { makeTempDir } from '../helpers/ansible.js';

const secret = { label: 'stream', password: Buffer.from(`stream-pw-${randomBytes(6).toString('hex')}`) };
let dir = '';
before(async () => {
  dir = await makeTempDir();
});
after(async () => {
  if (dir) await fsp.rm(dir, { recursive: true, force: true });
});

function collect(): { stream: PassThrough; result: () => Buffer } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (d: Buffer) => chunks.push(d));
  return { stream, result: () => Buffer.concat(chunks) };
}

// Sizes around the AES block and the 1 MiB read chunk.
const sizes = [0, 1, 15, 16, 17, 1024 * 1024 - 1, 1024 * 1024 + 3, 2 * 1024 * 1024 + 333];

test('encryptVaultStream and encryptVaultFile are byte-identical to encryptVault for the same salt', async () => {
  const salt = randomBytes(32);
  for (const size of sizes) {
    const plaintext = randomBytes(size);
    const path = join(dir, `plain-${size}`);
    await fsp.writeFile(path, plaintext);
    const out = collect();
    await encryptVaultStream(path, out.stream, secret, { salt });
    const expected = await encryptVault(plaintext, secret, { salt });
    assert.equal(out.result().toString('latin1'), expected, `size ${size}`);
    // The file variant makes one pass and patches the HMAC in afterwards: same bytes.
    await encryptVaultFile(path, `${path}.vault`, secret, { salt });
    assert.equal(await fsp.readFile(`${path}.vault`, 'latin1'), expected, `file, size ${size}`);
  }
});

test('decryptVaultStream agrees with decryptVault, across chunk boundaries and odd line layouts', async () => {
  for (const size of sizes) {
    const plaintext = randomBytes(size);
    const text = await encryptVault(plaintext, secret);
    for (const [layout, variant] of [
      ['ansible', text],
      ['crlf', text.replace(/\n/g, '\r\n')],
      ['short lines', text.split('\n').map((l, i) => (i === 0 ? l : l.replace(/(.{1,37})/g, '$1\n'))).join('\n')],
    ] as const) {
      if (size > 100_000 && layout === 'short lines') continue; // the general path is slow by design
      const path = join(dir, `vault-${size}-${layout.replace(' ', '-')}`);
      await fsp.writeFile(path, variant);
      const out = collect();
      const { header, secret: used } = await decryptVaultStream(path, out.stream, [secret]);
      assert.ok(out.result().equals(plaintext), `size ${size}, ${layout}`);
      assert.equal(header.label, 'stream');
      assert.equal(used, secret);
    }
  }
});

test('a ciphertext larger than the in-memory limit goes through a temp file and still decrypts', async () => {
  const plaintext = randomBytes(9 * 1024 * 1024 + 7);
  const plainPath = join(dir, 'big');
  const vaultPath = join(dir, 'big.vault');
  const outPath = join(dir, 'big.out');
  await fsp.writeFile(plainPath, plaintext);
  await encryptVaultFile(plainPath, vaultPath, secret);
  const result = await decryptVaultFile(vaultPath, outPath, [{ label: 'other', password: Buffer.from('nope') }, secret]);
  assert.equal(result.secret, secret);
  assert.ok((await fsp.readFile(outPath)).equals(plaintext));
  assert.equal((await fsp.stat(outPath)).mode & 0o777, 0o600);
});

test('file output beyond the early write-back step (16 MiB) is byte-identical; a late failure leaves the target', async () => {
  const work = await fsp.mkdtemp(join(dir, 'writeback-'));
  const salt = randomBytes(32);
  const plaintext = randomBytes(9 * 1024 * 1024 + 5); // ~37 MiB of vault text
  const plainPath = join(work, 'plain');
  await fsp.writeFile(plainPath, plaintext);
  await encryptVaultFile(plainPath, join(work, 'out.vault'), secret, { salt });
  assert.equal(await fsp.readFile(join(work, 'out.vault'), 'latin1'), await encryptVault(plaintext, secret, { salt }));
  await decryptVaultFile(join(work, 'out.vault'), join(work, 'out.plain'), [secret]);
  assert.ok((await fsp.readFile(join(work, 'out.plain'))).equals(plaintext));

  // Vault-looking ASCII input is only recognised after the whole output was written (and partly synced).
  const lookalike = join(work, 'lookalike');
  await fsp.writeFile(lookalike, `$ANSIBLE_VAULT;1.1;AES256\n${'6162'.repeat(5 * 1024 * 1024)}\n`);
  await fsp.writeFile(join(work, 'target'), 'keep me\n');
  await assert.rejects(encryptVaultFile(lookalike, join(work, 'target'), secret), { code: 'ALREADY_ENCRYPTED' });
  assert.equal(await fsp.readFile(join(work, 'target'), 'utf8'), 'keep me\n');
  assert.deepEqual((await fsp.readdir(work)).sort(), ['lookalike', 'out.plain', 'out.vault', 'plain', 'target']);
});

test('an output stream destroyed early fails the streaming encrypt and decrypt (no hang)', async () => {
  const plainPath = join(dir, 'early-close');
  await fsp.writeFile(plainPath, randomBytes(3 * 1024 * 1024));
  const closed = new PassThrough();
  closed.destroy();
  await assert.rejects(encryptVaultStream(plainPath, closed, secret), /closed before all data was written/);
  await encryptVaultFile(plainPath, `${plainPath}.vault`, secret);
  const failing = new PassThrough();
  failing.on('error', () => undefined); // the failure is what the call must report
  failing.destroy(new Error('EPIPE-like failure'));
  await assert.rejects(decryptVaultStream(`${plainPath}.vault`, failing, [secret]), /EPIPE-like failure|closed before/);
});

test('failed decryptVaultFile leaves the output untouched and no temp files behind', async () => {
  const work = await fsp.mkdtemp(join(dir, 'fail-'));
  const vaultPath = join(work, 'secret.vault');
  const outPath = join(work, 'existing.txt');
  await fsp.writeFile(vaultPath, await encryptVault('payload', secret));
  await fsp.writeFile(outPath, 'keep me\n', { mode: 0o640 });
  await fsp.chmod(outPath, 0o640);
  await assert.rejects(decryptVaultFile(vaultPath, outPath, [{ label: 'stream', password: Buffer.from('wrong') }]), DecryptionFailedError);
  await fsp.writeFile(join(work, 'broken.vault'), '$ANSIBLE_VAULT;1.1;AES256\nzz\n');
  await assert.rejects(decryptVaultFile(join(work, 'broken.vault'), outPath, [secret]), { code: 'VAULT_FORMAT' });
  await assert.rejects(decryptVaultFile(join(work, 'missing.vault'), outPath, [secret]), { code: 'IO', message: /no such file/ });
  assert.equal(await fsp.readFile(outPath, 'utf8'), 'keep me\n');
  assert.equal((await fsp.stat(outPath)).mode & 0o777, 0o640);
  assert.deepEqual((await fsp.readdir(work)).sort(), ['broken.vault', 'existing.txt', 'secret.vault']);
});

test('in place: encrypt then decrypt the same path keeps its mode; encrypting a vault is refused', async () => {
  const path = join(dir, 'inplace.yml');
  const plaintext = Buffer.from('password: in-place\n');
  await fsp.writeFile(path, plaintext);
  await fsp.chmod(path, 0o640);
  await encryptVaultFile(path, path, secret, { label: 'prod' });
  const encrypted = await fsp.readFile(path, 'latin1');
  assert.match(encrypted, /^\$ANSIBLE_VAULT;1\.2;AES256;prod\n/);
  assert.equal((await fsp.stat(path)).mode & 0o777, 0o640);
  await assert.rejects(encryptVaultFile(path, path, secret), { code: 'ALREADY_ENCRYPTED' });
  assert.equal(await fsp.readFile(path, 'latin1'), encrypted);
  const { header } = await decryptVaultFile(path, path, [secret]);
  assert.equal(header.label, 'prod');
  assert.ok((await fsp.readFile(path)).equals(plaintext));
  assert.equal((await fsp.stat(path)).mode & 0o777, 0o640);
});

test('decryptVaultStream reads an Ansible-written vector file', async () => {
  const path = '/work/shared/vectors/ansible/format_1_2_AES256.yml';
  const out = collect();
  const { header } = await decryptVaultStream(path, out.stream, [{ label: 'x', password: Buffer.from('test-vault-password') }]);
  assert.equal(out.result().toString(), 'foobar\n');
  assert.equal(header.label, 'test_vault_id');
  assert.equal((await decryptVault(await fsp.readFile(path), [{ label: 'x', password: Buffer.from('test-vault-password') }])).plaintext.toString(), 'foobar\n');
});

test('concurrent streaming decryptions do not mix their data (shared kernel memory is leased to one)', async () => {
  const plaintexts = [0, 1, 2].map(() => randomBytes(2 * 1024 * 1024 + 1234));
  const paths = plaintexts.map((_, i) => join(dir, `concurrent-${i}`));
  await Promise.all(plaintexts.map(async (p, i) => fsp.writeFile(`${paths[i]}.vault`, await encryptVault(p, secret))));
  await Promise.all(paths.map((p) => decryptVaultFile(`${p}.vault`, `${p}.out`, [secret])));
  for (const [i, p] of paths.entries()) assert.ok((await fsp.readFile(`${p}.out`)).equals(plaintexts[i]!), `file ${i}`);
});

test('concurrent file encryptions are byte-identical to encryptVault; one refused midway does not disturb the next', async () => {
  const plaintexts = [0, 1, 2].map((i) => randomBytes(3 * 1024 * 1024 + 777 * i));
  const salts = plaintexts.map(() => randomBytes(32));
  const paths = plaintexts.map((_, i) => join(dir, `enc-concurrent-${i}`));
  await Promise.all(plaintexts.map((p, i) => fsp.writeFile(paths[i]!, p)));
  await Promise.all(paths.map((p, i) => encryptVaultFile(p, `${p}.vault`, secret, { salt: salts[i]! })));
  for (const [i, p] of paths.entries()) {
    const expected = await encryptVault(plaintexts[i]!, secret, { salt: salts[i]! });
    assert.ok((await fsp.readFile(`${p}.vault`, 'latin1')) === expected, `file ${i}`);
  }
  // A refused input (already a vault, found at the end of the pass, with writes still pending) must
  // not disturb the next encryption.
  const vaultLookalike = join(dir, 'enc-lookalike');
  await fsp.writeFile(vaultLookalike, `$ANSIBLE_VAULT;1.1;AES256\n${'3'.repeat(3 * 1024 * 1024)}\n`);
  await assert.rejects(encryptVaultFile(vaultLookalike, `${vaultLookalike}.vault`, secret), { code: 'ALREADY_ENCRYPTED' });
  await encryptVaultFile(paths[0]!, `${paths[0]}.again`, secret, { salt: salts[0]! });
  assert.ok((await fsp.readFile(`${paths[0]}.again`, 'latin1')) === (await encryptVault(plaintexts[0]!, secret, { salt: salts[0]! })));
});

test('rekeyVaultFile: the new vault opens with the new secret only, under its label; memory path and spill path', async () => {
  const work = await fsp.mkdtemp(join(dir, 'rekey-'));
  const next = { label: 'next', password: Buffer.from(`rekey-pw-${randomBytes(6).toString('hex')}`) };
  for (const size of [0, 17, 1024 * 1024 + 3, 9 * 1024 * 1024 + 11]) {
    const plaintext = randomBytes(size);
    const path = join(work, `v${size}`);
    await fsp.writeFile(path, await encryptVault(plaintext, secret));
    await fsp.chmod(path, 0o640);
    const opened = await rekeyVaultFile(path, path, [{ label: 'other', password: Buffer.from('nope') }, secret], next, { label: 'next' });
    assert.equal(opened.secret, secret);
    assert.equal(opened.header.label, 'stream');
    const text = await fsp.readFile(path, 'latin1');
    assert.ok(text.startsWith('$ANSIBLE_VAULT;1.2;AES256;next\n'), `size ${size}`);
    assert.ok(text.split('\n').slice(1, -1).every((line) => line.length === 80 || line === text.split('\n').at(-2)));
    assert.ok((await decryptVault(text, [next])).plaintext.equals(plaintext), `size ${size}`);
    await assert.rejects(decryptVault(text, [secret]), DecryptionFailedError);
    assert.equal((await fsp.stat(path)).mode & 0o777, 0o640);
  }
  assert.equal((await fsp.readdir(work)).length, 4, 'no temp files left');
});

test('rekeyVaultFile: a wrong password or a tampered vault leaves the file as it was', async () => {
  const work = await fsp.mkdtemp(join(dir, 'rekey-fail-'));
  const path = join(work, 'v');
  const original = await encryptVault(randomBytes(2 * 1024 * 1024 + 5), secret);
  await fsp.writeFile(path, original);
  const next = { label: 'next', password: randomBytes(12) };
  await assert.rejects(rekeyVaultFile(path, path, [{ label: 'stream', password: Buffer.from('wrong') }], next), DecryptionFailedError);
  // One ciphertext digit changed in the middle (outer pair "3d" -> "3(d+1)": still valid hex): the
  // HMAC check fails before anything is re-encrypted.
  const lines = original.split('\n');
  const mid = Math.floor(lines.length / 2);
  const line = lines[mid]!;
  let at = 0;
  while (!(line[at] === '3' && line[at + 1]! >= '0' && line[at + 1]! <= '8')) at += 2;
  lines[mid] = line.slice(0, at + 1) + String(Number(line[at + 1]) + 1) + line.slice(at + 2);
  await fsp.writeFile(join(work, 't'), lines.join('\n'));
  await assert.rejects(rekeyVaultFile(join(work, 't'), join(work, 't'), [secret], next), DecryptionFailedError);
  assert.equal(await fsp.readFile(path, 'latin1'), original);
  assert.deepEqual((await fsp.readdir(work)).sort(), ['t', 'v']);
});

test('encryptVaultFile in place keeps set-id bits (the owner is restored before the mode)', async () => {
  const path = join(dir, 'setid.bin');
  await fsp.writeFile(path, randomBytes(1000));
  await fsp.chmod(path, 0o6750);
  await encryptVaultFile(path, path, secret);
  assert.equal((await fsp.stat(path)).mode & 0o7777, 0o6750);
  await decryptVaultFile(path, path, [secret]);
  assert.equal((await fsp.stat(path)).mode & 0o7777, 0o6750);
});

test('the spilled ciphertext of a big decrypt is never visible on disk: not during, not after a reader goes away', async () => {
  const work = await fsp.mkdtemp(join(dir, 'stash-'));
  const tmp = await fsp.mkdtemp(join(dir, 'stash-tmp-'));
  const plaintext = randomBytes(9 * 1024 * 1024 + 1); // ciphertext above the 8 MiB in-memory limit
  await fsp.writeFile(join(work, 'plain'), plaintext);
  await encryptVaultFile(join(work, 'plain'), join(work, 'v'), secret);
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  try {
    const seenDuring: string[][] = [];
    let first = true;
    // Like `view | head -c 100`: the reader takes one chunk, looks around, then goes away.
    const reader = new Writable({
      write(_chunk, _encoding, done) {
        seenDuring.push(readdirSync(tmp));
        if (first) {
          first = false;
          done();
        } else done(new Error('reader closed'));
      },
    });
    await assert.rejects(decryptVaultStream(join(work, 'v'), reader, [secret]), /reader closed/);
    assert.ok(seenDuring.length >= 1);
    for (const listing of seenDuring) assert.deepEqual(listing, []);
    assert.deepEqual(readdirSync(tmp), []);
    const out = collect();
    await decryptVaultStream(join(work, 'v'), out.stream, [secret]);
    assert.ok(out.result().equals(plaintext));
    assert.deepEqual(readdirSync(tmp), []);
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
});

test('a hex digit missing in the middle of a big vault: a clear error naming where the pairs go wrong', async () => {
  const work = await fsp.mkdtemp(join(dir, 'odd-'));
  await fsp.writeFile(join(work, 'plain'), randomBytes(300_000));
  await encryptVaultFile(join(work, 'plain'), join(work, 'v'), secret);
  const lines = (await fsp.readFile(join(work, 'v'), 'latin1')).split('\n');
  const target = Math.floor(lines.length / 2);
  lines[target] = lines[target]!.slice(0, 10) + lines[target]!.slice(11); // one digit gone
  await fsp.writeFile(join(work, 'v'), lines.join('\n'));
  const out = collect();
  await assert.rejects(decryptVaultStream(join(work, 'v'), out.stream, [secret]), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'VAULT_FORMAT');
    assert.match(e.message, /not hexadecimal: the hex pair ending on line \d+, column \d+ decodes to .*\(a hex digit missing or extra/);
    const line = Number(/on line (\d+)/.exec(e.message)![1]);
    assert.ok(line >= target + 1 && line <= target + 3, `line ${line} near the damaged line ${target + 1}`);
    return true;
  });
  assert.equal(out.result().length, 0, 'nothing decrypted');
});

test('a file output descriptor is closed once, by its FileHandle: the write stream never closes it (a stray second close can hit a reused descriptor)', async () => {
  const work = await fsp.mkdtemp(join(dir, 'fd-'));
  await fsp.writeFile(join(work, 'plain'), randomBytes(3 * 1024 * 1024));
  await fsp.writeFile(join(work, 'lookalike'), `$ANSIBLE_VAULT;1.1;AES256\n${'3'.repeat(3 * 1024 * 1024)}\n`);
  const closedByStreams: number[] = [];
  const original = fs.close;
  fs.close = ((fd: number, ...rest: unknown[]) => {
    closedByStreams.push(fd);
    return (original as (...args: unknown[]) => void)(fd, ...rest);
  }) as typeof fs.close;
  try {
    await encryptVaultFile(join(work, 'plain'), join(work, 'v'), secret);
    await assert.rejects(encryptVaultFile(join(work, 'lookalike'), join(work, 'w'), secret), { code: 'ALREADY_ENCRYPTED' });
    await decryptVaultFile(join(work, 'v'), join(work, 'out'), [secret]);
    await new Promise((resolve) => setTimeout(resolve, 50)); // a deferred stream close would land by now
  } finally {
    fs.close = original;
  }
  assert.deepEqual(closedByStreams, []);
  assert.ok((await fsp.readFile(join(work, 'out'))).equals(await fsp.readFile(join(work, 'plain'))));
});
