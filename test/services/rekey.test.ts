// rekeyFiles against a file another program rewrites while the rekey runs (ansible-vault, an editor):
// vaultsmith's own lock cannot keep them out, so the rekey must notice and replace nothing.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fsp, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { rekeyFiles } from '../../src/services/vault-files.js';
import { decryptVault, encryptVault } from '../../src/vault/index.js';
import { makeTempDir } from '../helpers/ansible.js';

const oldSecret = { label: 'default', password: randomBytes(12) };
const newSecret = { label: 'default', password: randomBytes(12) };
let dir = '';
before(async () => {
  dir = await makeTempDir();
});
after(async () => {
  if (dir) await fsp.rm(dir, { recursive: true, force: true });
});

test('a file rewritten by another program during a rekey: CONFLICT, no file replaced, the other change kept', async () => {
  const small = join(dir, 'small.yml');
  const big = join(dir, 'big.vault'); // streamed: its vault text is above 16 MiB, so it is staged last
  await fsp.writeFile(small, await encryptVault('a: 1\n', oldSecret));
  await fsp.writeFile(big, await encryptVault(randomBytes(4_300_000), oldSecret));
  const bigBefore = await fsp.readFile(big);
  const edited = await encryptVault('a: 1\nb: added by ansible-vault edit\n', oldSecret);
  const conflict = await rekeyFiles(
    { paths: [small, big], secrets: [oldSecret], newSecret, newLabel: null },
    {
      // Once the small file is staged (read long ago), another program rewrites it.
      onProgress: (_done, _total, name) => {
        if (name === small) writeFileSync(small, edited);
      },
    },
  ).catch((e: unknown) => e);
  assert.ok(conflict instanceof Error && (conflict as Error & { code?: string }).code === 'CONFLICT', String(conflict));
  assert.match((conflict as Error).message, /small\.yml was changed by another program during the rekey; no file was changed/);
  assert.equal(await fsp.readFile(small, 'latin1'), edited);
  assert.ok((await fsp.readFile(big)).equals(bigBefore));
  assert.equal((await decryptVault(await fsp.readFile(small), [oldSecret])).plaintext.toString(), 'a: 1\nb: added by ansible-vault edit\n');
  assert.deepEqual((await fsp.readdir(dir)).sort(), ['big.vault', 'small.yml']);
  // Unchanged files rekey as usual.
  await rekeyFiles({ paths: [small, big], secrets: [oldSecret], newSecret, newLabel: null });
  assert.equal((await decryptVault(await fsp.readFile(small), [newSecret])).plaintext.toString(), 'a: 1\nb: added by ansible-vault edit\n');
});
