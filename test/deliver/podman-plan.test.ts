import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  type ExistingPodmanSecret,
  LABEL_FINGERPRINT,
  LABEL_SEALED,
  type PodmanSecretBackend,
  SEAL_MAX_BYTES,
  deliveryKeysFromSecret,
  deriveDeliveryKeys,
  executePodmanSync,
  fingerprintValue,
  parsePodmanSocketUrl,
  planPodmanSync,
  podmanSecretsFromVariables,
  syncPodmanSecrets,
} from '../../src/deliver/podman/index.js';
import { managedLabels, unsealValue } from '../../src/deliver/podman/labels.js';
import { versionAtLeast } from '../../src/deliver/podman/api.js';
import type { ResolvedVariable } from '../../src/manifest/index.js';

const keys = deliveryKeysFromSecret(randomBytes(32), 'production');
const otherKeys = deliveryKeysFromSecret(randomBytes(32), 'production');
const managed = (name: string, value: string, extra: Record<string, string> = {}): ExistingPodmanSecret => ({
  id: randomBytes(12).toString('hex'),
  name,
  labels: managedLabels(keys, name, Buffer.from(value), extra),
});

describe('keyed fingerprints and sealed copies', () => {
  test('the fingerprint is keyed and bound to the name, never a plain hash', () => {
    const value = Buffer.from(randomBytes(16).toString('hex'));
    const fp = fingerprintValue(keys, 'db_password', value);
    assert.match(fp, /^hmac-sha256:[0-9a-f]{64}$/);
    assert.equal(fingerprintValue(keys, 'db_password', value), fp);
    assert.notEqual(fingerprintValue(otherKeys, 'db_password', value), fp);
    assert.notEqual(fingerprintValue(keys, 'other_name', value), fp);
    assert.ok(!fp.includes(createHash('sha256').update(value).digest('hex')));
  });

  test('key derivation from the vault password depends on password and environment', async () => {
    const password = Buffer.from(randomBytes(12).toString('hex'));
    const a = await deriveDeliveryKeys(password, 'production');
    const b = await deriveDeliveryKeys(password, 'production');
    const c = await deriveDeliveryKeys(password, 'staging');
    assert.deepEqual(a.fingerprintKey, b.fingerprintKey);
    assert.notDeepEqual(a.fingerprintKey, c.fingerprintKey);
    assert.notDeepEqual(a.fingerprintKey, a.sealKey);
  });

  test('a sealed copy opens only with the same keys, name and fingerprint', () => {
    const value = `${randomBytes(20).toString('base64')}\n`;
    const labels = managedLabels(keys, 'tok', Buffer.from(value));
    assert.ok(!labels[LABEL_SEALED]?.includes(value.trim()));
    assert.equal(unsealValue(keys, 'tok', labels)?.toString(), value);
    assert.equal(unsealValue(otherKeys, 'tok', labels), undefined);
    assert.equal(unsealValue(keys, 'other', labels), undefined);
    assert.equal(unsealValue(keys, 'tok', { ...labels, [LABEL_FINGERPRINT]: 'hmac-sha256:00' }), undefined);
    const tampered = `${labels[LABEL_SEALED]?.slice(0, -2)}AA`;
    assert.equal(unsealValue(keys, 'tok', { ...labels, [LABEL_SEALED]: tampered }), undefined);
    assert.equal(managedLabels(keys, 'big', Buffer.alloc(SEAL_MAX_BYTES + 1, 1))[LABEL_SEALED], undefined);
  });
});

describe('planPodmanSync', () => {
  test('plans create / update / unchanged / prune / cleanup and never plans foreign secrets', () => {
    const existing = [
      managed('same', 'v-same'),
      managed('changed', 'old'),
      managed('relabelled', 'v', { 'vaultsmith.variables': 'OLD' }),
      managed('gone', 'x'),
      managed('kept_for_other_service', 'y'),
      { ...managed('changed.vaultsmith-staged', 'new'), labels: { ...managed('changed', 'new').labels, 'vaultsmith.staging-for': 'changed' } },
      { id: '1', name: 'hand_made', labels: {} },
      { id: '2', name: 'staging_only', labels: { 'vaultsmith.managed': 'true', 'vaultsmith.env': 'staging' } },
    ];
    const planned = planPodmanSync(
      keys,
      [
        { name: 'same', value: 'v-same' },
        { name: 'changed', value: 'new' },
        { name: 'relabelled', value: 'v', labels: { 'vaultsmith.variables': 'NEW' } },
        { name: 'fresh', value: 'f' },
      ],
      existing,
      { prune: true, keepNames: ['kept_for_other_service'] },
    );
    assert.deepEqual(
      planned.entries.map((e) => `${e.action}:${e.name}:${e.reason}`),
      [
        'cleanup:changed.vaultsmith-staged:staged copy left by an interrupted sync',
        'update:changed:value changed',
        'create:fresh:new',
        'update:relabelled:labels changed',
        'unchanged:same:same value',
        'prune:gone:no longer in the contract',
      ],
    );
  });

  test('name clashes with unmanaged, other-environment or other-project secrets are conflicts', () => {
    const planned = planPodmanSync(
      keys,
      [
        { name: 'hand_made', value: 'a' },
        { name: 'staging_one', value: 'b' },
        { name: 'other_project', value: 'c' },
      ],
      [
        { id: '1', name: 'hand_made', labels: {} },
        { id: '2', name: 'staging_one', labels: { 'vaultsmith.managed': 'true', 'vaultsmith.env': 'staging' } },
        managed('other_project', 'c', { 'vaultsmith.project': 'someone' }),
      ],
      { prune: true, scopeLabels: { 'vaultsmith.project': 'senex' } },
    );
    assert.deepEqual(
      planned.entries.map((e) => `${e.action}:${e.name}:${e.reason}`),
      [
        'conflict:hand_made:exists but was not created by vaultsmith',
        'conflict:other_project:managed by vaultsmith for another owner (vaultsmith.project=someone)',
        "conflict:staging_one:managed by vaultsmith for environment 'staging'",
      ],
    );
  });

  test('rejects names and values Podman would reject, and duplicates', () => {
    const plan = (name: string, value: string | Buffer) => () => planPodmanSync(keys, [{ name, value }], []);
    assert.throws(plan('bad/name', 'x'), /invalid podman secret name 'bad\/name'/);
    assert.throws(plan('-dash', 'x'), /invalid podman secret name/);
    assert.throws(plan('x.vaultsmith-staged', 'x'), /reserved suffix/);
    assert.throws(plan('empty', ''), /would be empty; Podman rejects empty secrets/);
    assert.throws(plan('huge', Buffer.alloc(512_000, 1)), /Podman accepts less than 512000/);
    assert.throws(() => planPodmanSync(keys, [{ name: 'a', value: '1' }, { name: 'a', value: '2' }], []), /listed twice/);
  });
});

/**
 * An in-memory store for the paths the installed Podman 4.3 cannot exercise: `--replace` (4.7+)
 * and a replace whose previous value cannot be recovered. The real-podman paths are covered in
 * test/integration/podman-*.test.ts.
 */
function memoryBackend(options: { replace: boolean; failCreates?: string[] }) {
  const store = new Map<string, { data: Buffer; labels: Record<string, string> }>();
  const calls: string[] = [];
  const failures = [...(options.failCreates ?? [])];
  const backend: PodmanSecretBackend = {
    description: 'memory',
    supportsReplace: async () => options.replace,
    list: async () => [...store].map(([name, s]) => ({ id: name, name, labels: { ...s.labels } })),
    create: async (name, data, labels, opts = {}) => {
      calls.push(`create${opts.replace ? ' --replace' : ''} ${name}`);
      if (failures[0] === name) {
        failures.shift();
        throw new Error(`injected failure creating ${name}`);
      }
      if (store.has(name) && !opts.replace) throw new Error(`${name}: secret name in use`);
      store.set(name, { data: Buffer.from(data), labels: { ...labels } });
    },
    remove: async (name) => {
      calls.push(`rm ${name}`);
      if (!store.delete(name)) throw new Error(`no secret with name or id "${name}"`);
    },
  };
  return { backend, store, calls };
}

describe('executePodmanSync', () => {
  test('uses --replace in one step where Podman has it', async () => {
    const { backend, store, calls } = memoryBackend({ replace: true });
    await syncPodmanSecrets(backend, keys, [{ name: 's', value: 'one' }]);
    const { report, failure } = await syncPodmanSecrets(backend, keys, [{ name: 's', value: 'two' }]);
    assert.equal(failure, undefined);
    assert.equal(report.results[0]?.method, 'replace');
    assert.deepEqual(calls, ['create s', 'create --replace s']);
    assert.equal(store.get('s')?.data.toString(), 'two');
  });

  test('without a recoverable previous value a failed swap says the secret is missing and keeps the staged copy', async () => {
    const { backend, store } = memoryBackend({ replace: false, failCreates: ['s', 's'] });
    // Created by something that did not seal the value (e.g. larger than SEAL_MAX_BYTES).
    const labels = managedLabels(keys, 's', Buffer.from('old'));
    delete labels[LABEL_SEALED];
    store.set('s', { data: Buffer.from('old'), labels });
    const { report, failure } = await syncPodmanSecrets(backend, keys, [{ name: 's', value: 'new' }]);
    assert.equal(failure?.code, 'EXTERNAL');
    assert.match(failure?.message ?? '', /podman secret 's' is missing after a failed replace: injected failure creating s; its new value is kept as 's.vaultsmith-staged'/);
    assert.equal(report.results[0]?.status, 'failed');
    assert.equal(store.get('s.vaultsmith-staged')?.data.toString(), 'new');
    // The next sync cleans the staged copy up and creates the secret.
    const next = await syncPodmanSecrets(backend, keys, [{ name: 's', value: 'new' }]);
    assert.deepEqual(next.report.plan.map((e) => `${e.action}:${e.name}`), ['cleanup:s.vaultsmith-staged', 'create:s']);
    assert.deepEqual([...store.keys()], ['s']);
  });

  test('without a recoverable previous value a single failed create is retried', async () => {
    const { backend, store, calls } = memoryBackend({ replace: false, failCreates: ['s'] });
    const labels = managedLabels(keys, 's', Buffer.from('old'));
    delete labels[LABEL_SEALED];
    store.set('s', { data: Buffer.from('old'), labels });
    const { report, failure } = await syncPodmanSecrets(backend, keys, [{ name: 's', value: 'new' }]);
    assert.equal(failure, undefined);
    assert.equal(report.results[0]?.status, 'done');
    assert.deepEqual(calls, ['create s.vaultsmith-staged', 'rm s', 'create s', 'create s', 'rm s.vaultsmith-staged']);
    assert.deepEqual([...store.keys()], ['s']);
    assert.equal(store.get('s')?.data.toString(), 'new');
  });

  test('a failure to stage the new value changes nothing', async () => {
    const { backend, store } = memoryBackend({ replace: false, failCreates: ['s.vaultsmith-staged'] });
    await syncPodmanSecrets(backend, keys, [{ name: 's', value: 'old' }]);
    const { failure } = await syncPodmanSecrets(backend, keys, [{ name: 's', value: 'new' }]);
    assert.match(failure?.message ?? '', /could not stage the new value of podman secret 's'.*nothing was changed/);
    assert.equal(store.get('s')?.data.toString(), 'old');
  });

  test('dry run and conflicts change nothing', async () => {
    const { backend, calls } = memoryBackend({ replace: false });
    const planned = planPodmanSync(keys, [{ name: 'a', value: '1' }], []);
    const { report } = await executePodmanSync(backend, keys, planned, { dryRun: true });
    assert.equal(report.results[0]?.status, 'planned');
    assert.deepEqual(calls, []);
  });
});

describe('helpers', () => {
  test('podmanSecretsFromVariables merges variables sharing a secret and rejects disagreeing values', () => {
    const variable = (name: string, value: string, secret: string): ResolvedVariable => ({
      name,
      value,
      fromSecret: true,
      services: [],
      masked: '****',
      podman: { secret, type: 'env', target: name },
    });
    const merged = podmanSecretsFromVariables([variable('A', 'x', 's'), variable('B', 'x', 's')], 'p');
    assert.deepEqual(merged, [{ name: 's', value: 'x', labels: { 'vaultsmith.project': 'p', 'vaultsmith.variables': 'A,B' } }]);
    assert.throws(() => podmanSecretsFromVariables([variable('A', 'x', 's'), variable('B', 'y', 's')], 'p'), /share podman secret 's' but resolve to different values/);
  });

  test('socket URLs and versions', () => {
    assert.equal(parsePodmanSocketUrl('unix:///run/podman/podman.sock'), '/run/podman/podman.sock');
    assert.throws(() => parsePodmanSocketUrl('tcp://127.0.0.1:8080'), /unsupported Podman service URL/);
    assert.equal(versionAtLeast('4.3.1', 4, 7), false);
    assert.equal(versionAtLeast('4.7.0', 4, 7), true);
    assert.equal(versionAtLeast('5.0.0-dev', 4, 7), true);
  });
});
