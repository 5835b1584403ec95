// Batch replacement used by rekey: staged files become visible only on commit, keep the target's
// mode, leave no temp file behind on any failure, and one bad vault in a rekey batch leaves every
// file byte for byte as it was.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { rekeyFiles } from '../../src/services/vault-files.js';
import { decryptVault, encryptVault } from '../../src/vault/index.js';
import { commitStaged, discardStaged, stageFile } from '../../src/vault/staged-write.js';
import { makeTempDir } from '../helpers/ansible.js';

let dir = '';
before(async () => {
  dir = await makeTempDir();
});
after(async () => {
  if (dir) await fsp.rm(dir, { recursive: true, force: true });
});

async function tempFilesIn(path: string): Promise<string[]> {
  return (await fsp.readdir(path)).filter((name) => name.endsWith('.tmp'));
}

test('staged files replace their targets only on commit, keeping the mode', async () => {
  const sub = await fsp.mkdtemp(join(dir, 'commit-'));
  const a = join(sub, 'a.yml');
  const b = join(sub, 'b.yml');
  await fsp.writeFile(a, 'old a', { mode: 0o640 });
  await fsp.chmod(a, 0o640);
  const staged = [await stageFile(a, Buffer.from('new a')), await stageFile(b, Buffer.from('new b'))];
  assert.equal(await fsp.readFile(a, 'utf8'), 'old a', 'target unchanged before commit');
  await assert.rejects(fsp.stat(b), { code: 'ENOENT' });
  await commitStaged(staged);
  assert.equal(await fsp.readFile(a, 'utf8'), 'new a');
  assert.equal(await fsp.readFile(b, 'utf8'), 'new b');
  assert.equal((await fsp.stat(a)).mode & 0o777, 0o640, 'existing mode kept');
  assert.equal((await fsp.stat(b)).mode & 0o777, 0o600, 'new file private');
  assert.deepEqual(await tempFilesIn(sub), []);
});

test('discard and a failed rename leave targets as they were and no temp files', async () => {
  const sub = await fsp.mkdtemp(join(dir, 'discard-'));
  const a = join(sub, 'a.yml');
  const b = join(sub, 'b.yml');
  await fsp.writeFile(a, 'old a');
  await fsp.writeFile(b, 'old b');
  await discardStaged([await stageFile(a, Buffer.from('new a'))]);
  assert.equal(await fsp.readFile(a, 'utf8'), 'old a');
  assert.deepEqual(await tempFilesIn(sub), []);

  // The second target turns into a directory after staging: its rename fails.
  const staged = [await stageFile(a, Buffer.from('new a')), await stageFile(b, Buffer.from('new b'))];
  await fsp.rm(b);
  await fsp.mkdir(b);
  await assert.rejects(commitStaged(staged), (e: Error) => e.message.includes(b));
  assert.equal(await fsp.readFile(a, 'utf8'), 'new a', 'earlier renames stand');
  assert.ok((await fsp.stat(b)).isDirectory());
  assert.deepEqual(await tempFilesIn(sub), []);
  await assert.rejects(stageFile(b, Buffer.from('x')), /not a regular file/);
  assert.deepEqual(await tempFilesIn(sub), []);
});

test('rekeyFiles: one file with a wrong password leaves every file untouched and no temp file', async () => {
  const sub = await fsp.mkdtemp(join(dir, 'rekey-'));
  const oldSecret = { label: 'default', password: randomBytes(12) };
  const otherSecret = { label: 'default', password: randomBytes(12) };
  const newSecret = { label: 'default', password: randomBytes(12) };
  const paths = Array.from({ length: 12 }, (_, i) => join(sub, `v${i}.yml`));
  const texts = await Promise.all(paths.map((_, i) => encryptVault(`key_${i}: ${randomBytes(8).toString('hex')}\n`, i === 7 ? otherSecret : oldSecret)));
  await Promise.all(paths.map((p, i) => fsp.writeFile(p, texts[i]!, { mode: 0o600 })));

  await assert.rejects(rekeyFiles({ paths, secrets: [oldSecret], newSecret, newLabel: null }), /Decryption failed/);
  for (const [i, p] of paths.entries()) assert.equal(await fsp.readFile(p, 'utf8'), texts[i], `${p} untouched`);
  assert.deepEqual(await tempFilesIn(sub), []);

  const progress: number[] = [];
  const good = paths.filter((_, i) => i !== 7);
  const result = await rekeyFiles({ paths: good, secrets: [oldSecret], newSecret, newLabel: null }, { onProgress: (done) => progress.push(done) });
  assert.deepEqual(result.files.map((f) => f.name), good);
  assert.deepEqual(progress, good.map((_, i) => i + 1));
  for (const p of good) {
    const text = await fsp.readFile(p, 'utf8');
    assert.match((await decryptVault(text, [newSecret])).plaintext.toString('utf8'), /^key_\d+: [0-9a-f]{16}\n$/);
    await assert.rejects(decryptVault(text, [oldSecret]), /Decryption failed/);
  }
  assert.deepEqual(await tempFilesIn(sub), []);
});
