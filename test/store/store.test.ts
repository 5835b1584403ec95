import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { startForeignProcess } from '../helpers/tools.js';
import { join } from 'node:path';
import { decryptVault, encryptVault } from '../../src/vault/index.js';
import { createVaultFile, updateVaultValues } from '../../src/store/index.js';
import { lockPathFor } from '../../src/internal/file-lock.js';
import { requirePythonModule, runPythonJson } from '../helpers/python.js';
import { parseVaultValues } from '../../src/manifest/environment.js';

const PLAINTEXT = `# Django Core
vault_secret_key: "old-key" # the comment on the line stays
vault_debug: false

# Database
vault_db_name: senextrader
vault_db_port: 5432
list_value:
  - a   # item comment
  - b
`;

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'vs-store-'));
  const secret = { label: 'staging', password: Buffer.from(randomBytes(24).toString('hex')) };
  return { dir, path: join(dir, 'vault.yml'), secret };
}

async function plaintextOf(path: string, secret: { label: string; password: Buffer }) {
  const { plaintext, header } = await decryptVault(readFileSync(path), [secret]);
  return { text: plaintext.toString('utf8'), header };
}

test('updateVaultValues keeps comments, order and formatting; keeps label and mode', async () => {
  const { dir, path, secret } = setup();
  try {
    await createVaultFile(path, PLAINTEXT, secret, 'staging');
    chmodSync(path, 0o640);
    await updateVaultValues(path, [secret], 'staging', (doc) => {
      doc.set('vault_secret_key', 'new-key');
      doc.set('vault_db_port', 5433);
      doc.set('vault_added', 'x');
      doc.delete('vault_debug');
    });
    const { text, header } = await plaintextOf(path, secret);
    assert.equal(header.label, 'staging');
    assert.equal(
      text,
      `# Django Core
vault_secret_key: "new-key" # the comment on the line stays

# Database
vault_db_name: senextrader
vault_db_port: 5433
list_value:
  - a   # item comment
  - b
vault_added: x
`,
    );
    assert.equal(statSync(path).mode & 0o777, 0o640);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failing edit, a wrong password or a held lock leave the file byte-identical', async () => {
  const { dir, path, secret } = setup();
  try {
    await createVaultFile(path, PLAINTEXT, secret, 'staging');
    const before = readFileSync(path);
    await assert.rejects(
      updateVaultValues(path, [secret], 'staging', () => {
        throw new Error('validation failed');
      }),
      /validation failed/,
    );
    await assert.rejects(
      updateVaultValues(path, [{ label: 'staging', password: Buffer.from('wrong') }], 'staging', (doc) => void doc.set('a', 'b')),
      (e: Error & { code?: string }) => e.code === 'DECRYPT_FAILED',
    );
    // Another live process holds the lock: CONFLICT, nothing written.
    const holder = startForeignProcess();
    writeFileSync(lockPathFor(path), `${holder.pid}\n`);
    try {
      await assert.rejects(
        updateVaultValues(path, [secret], 'staging', (doc) => void doc.set('a', 'b')),
        (e: Error & { code?: string }) => e.code === 'CONFLICT',
      );
    } finally {
      holder.stop();
    }
    rmSync(lockPathFor(path));
    assert.ok(readFileSync(path).equals(before));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('createVaultFile never replaces an existing file', async () => {
  const { dir, path, secret } = setup();
  try {
    await createVaultFile(path, 'a: 1\n', secret, 'staging');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    await assert.rejects(createVaultFile(path, 'a: 2\n', secret, 'staging'), /already exists/);
    assert.equal((await plaintextOf(path, secret)).text, 'a: 1\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('lines an edit does not touch keep their exact bytes; a no-op edit writes nothing', async () => {
  const { dir, path, secret } = setup();
  const handWritten = `---
# Database
vault_db_port: '5432'    # quoted on purpose
vault_db_user:   senex_user
vault_hosts: [a, b,   c]
vault_limits: {x: 1, y: 2}
vault_password: "old"  # rotated by hand
vault_note: >-
  folded
  text
vault_last: end
...
`;
  try {
    await createVaultFile(path, handWritten, secret, 'staging');
    const encrypted = readFileSync(path);
    await updateVaultValues(path, [secret], 'staging', () => undefined);
    assert.deepEqual(readFileSync(path), encrypted, 'a no-op edit must not rewrite the file');

    await updateVaultValues(path, [secret], 'staging', (doc) => {
      doc.set('vault_password', 'new');
      doc.set('vault_added', 'x');
    });
    const { text } = await plaintextOf(path, secret);
    const expected = handWritten
      .replace('vault_password: "old"  # rotated by hand', 'vault_password: "new" # rotated by hand')
      .replace('vault_last: end\n', 'vault_last: end\nvault_added: x\n');
    assert.equal(text, expected);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('written strings mean the same to YAML 1.1 (Ansible, PyYAML): yes, on, 12:30, 1_000 are quoted', async (t) => {
  if (!requirePythonModule(t, 'yaml')) return;
  const { dir, path, secret } = setup();
  const tricky = ['yes', 'On', 'n', 'off', '12:30', '1_000', '~', '0777', '1e3', 'plain-value'];
  try {
    await createVaultFile(path, 'vault_flag: yes # Ansible reads this as a boolean; it stays so\nvault_0: x\n', secret, 'staging');
    await updateVaultValues(path, [secret], 'staging', (doc) => {
      tricky.forEach((value, i) => doc.set(`vault_${i}`, value));
    });
    const { text } = await plaintextOf(path, secret);
    assert.match(text, /^vault_flag: yes # Ansible reads/m, 'an untouched value keeps its form');
    assert.match(text, /^vault_9: plain-value$/m, 'an unambiguous value stays plain');
    const script = 'import json, sys, yaml\njson.dump(yaml.safe_load(json.load(sys.stdin)), sys.stdout)';
    const read = await runPythonJson<Record<string, unknown>>(script, text);
    assert.deepEqual(tricky.map((_, i) => read[`vault_${i}`]), tricky);
    assert.equal(read.vault_flag, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('YAML errors in a vault never quote its content (alias, tag, excerpt)', async () => {
  const { dir, path, secret } = setup();
  const fragment = randomBytes(9).toString('hex');
  try {
    for (const body of [`a: 1\nvault_secret_key: *${fragment}\n`, `a: !${fragment} x\nb: [\n`, `a: "${fragment}\nb: c\n`]) {
      rmSync(path, { force: true });
      await createVaultFile(path, body, secret, 'staging');
      await assert.rejects(
        updateVaultValues(path, [secret], 'staging', () => undefined),
        (e: Error & { code?: string }) => e.code === 'INPUT' && /is not valid YAML/.test(e.message) && !e.message.includes(fragment),
      );
      assert.ok(!parseVaultValuesMessage(body).includes(fragment));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function parseVaultValuesMessage(body: string): string {
  try {
    parseVaultValues(body, 'vault.yml');
  } catch (e) {
    assert.match((e as Error).message, /not valid YAML/);
    return (e as Error).message;
  }
  return assert.fail('accepted invalid YAML');
}

test('a vault holding git conflict markers is refused with the marker lines named', () => {
  const text = 'a: 1\n<<<<<<< ours\nb: x\n=======\nb: y\n>>>>>>> theirs\n';
  assert.throws(() => parseVaultValues(text, 'vault.yml'), (e: Error & { code?: string }) => e.code === 'INPUT' && /unresolved git merge conflict markers \(lines 2, 4, 6\)/.test(e.message));
});

test('a change another program makes while a value is being set is not undone: CONFLICT, nothing written', async () => {
  const { dir, path, secret } = setup();
  try {
    await createVaultFile(path, PLAINTEXT, secret, 'staging');
    // Like `ansible-vault rekey` finishing between our read and our write.
    const rekeyed = { label: 'staging', password: Buffer.from(`rekeyed-${Date.now()}`) };
    let foreign: Buffer | undefined;
    await assert.rejects(
      updateVaultValues(path, [secret], 'staging', async (doc) => {
        doc.set('vault_added', 'x');
        const { plaintext } = await decryptVault(readFileSync(path), [secret]);
        foreign = Buffer.from(await encryptVault(plaintext, rekeyed, { label: 'staging' }));
        writeFileSync(path, foreign);
      }),
      (e: Error & { code?: string }) => e.code === 'CONFLICT' && /changed by another program/.test(e.message),
    );
    assert.ok(readFileSync(path).equals(foreign!), "the other program's rekey was undone");
    assert.equal(existsSync(lockPathFor(path)), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
