import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  type DesiredPodmanSecret,
  LABEL_ENV,
  LABEL_MANAGED,
  PodmanCliBackend,
  deliveryKeysFromSecret,
  stagingName,
  syncPodmanSecrets,
} from '../../src/deliver/podman/index.js';
import { hasTool, requireTool } from '../helpers/tools.js';
import { type IsolatedPodman, makeIsolatedPodman } from '../deliver/podman-store.js';

// Real podman (Debian 4.3: no `--replace`, so updates take the staged-swap path) with a private store.
describe('podman sync engine against the real podman CLI', { concurrency: false }, () => {
  let store: IsolatedPodman;
  const keys = deliveryKeysFromSecret(randomBytes(32), 'production');
  // Generated at test time; awkward bytes on purpose (newline, spaces, non-ASCII, trailing newline).
  const values = {
    db_password: randomBytes(24).toString('base64url'),
    redis_password: ` ${randomBytes(18).toString('hex')}\n`,
    django_secret_key: `${randomBytes(30).toString('base64')}é$'"\\`,
  };
  const seen: string[] = Object.values(values);
  const desired = (overrides: Partial<typeof values> = {}, drop: string[] = []): DesiredPodmanSecret[] =>
    Object.entries({ ...values, ...overrides })
      .filter(([name]) => !drop.includes(name))
      .map(([name, value]) => ({ name, value, labels: { 'vaultsmith.variables': name.toUpperCase() } }));

  before(async () => {
    if (!hasTool('podman')) return;
    store = await makeIsolatedPodman();
    // A secret someone created by hand: sync must never touch it.
    store.podman(['secret', 'create', 'hand_made', '-'], 'not-managed-by-vaultsmith');
  });
  after(async () => {
    await store?.cleanup();
  });
  const backend = () => new PodmanCliBackend({ env: store.env });

  test('first sync creates every secret with the exact bytes and vaultsmith labels', async (t) => {
    if (!requireTool(t, 'podman')) return;
    let printedPlan: string[] = [];
    const { report, failure } = await syncPodmanSecrets(backend(), keys, desired(), {
      onPlan: (plan) => {
        printedPlan = plan.map((e) => `${e.action} ${e.name}`);
      },
    });
    assert.equal(failure, undefined);
    assert.deepEqual(printedPlan, ['create db_password', 'create django_secret_key', 'create redis_password']);
    assert.ok(report.results.every((r) => r.status === 'done'));
    for (const [name, value] of Object.entries(values)) {
      assert.deepEqual(store.storedValue(name), Buffer.from(value), `${name} stored byte for byte`);
    }
    const labels = store.secrets().get('db_password')?.labels ?? {};
    assert.equal(labels[LABEL_MANAGED], 'true');
    assert.equal(labels[LABEL_ENV], 'production');
    assert.match(labels['vaultsmith.fingerprint'] ?? '', /^hmac-sha256:[0-9a-f]{64}$/);
    assert.equal(store.storedValue('hand_made')?.toString(), 'not-managed-by-vaultsmith');
  });

  test('a second sync changes nothing', async (t) => {
    if (!requireTool(t, 'podman')) return;
    const idsBefore = store.secrets();
    const createsBefore = store.countCalls('secret', 'create');
    const removesBefore = store.countCalls('secret', 'rm');
    const { report, failure } = await syncPodmanSecrets(backend(), keys, desired());
    assert.equal(failure, undefined);
    assert.equal(report.summary.unchanged, 3);
    assert.deepEqual(store.secrets(), idsBefore);
    assert.equal(store.countCalls('secret', 'create'), createsBefore);
    assert.equal(store.countCalls('secret', 'rm'), removesBefore);
  });

  test('changing one value replaces only that secret', async (t) => {
    if (!requireTool(t, 'podman')) return;
    const before = store.secrets();
    values.db_password = randomBytes(24).toString('base64url');
    seen.push(values.db_password);
    const { report, failure } = await syncPodmanSecrets(backend(), keys, desired());
    assert.equal(failure, undefined);
    assert.deepEqual(
      report.plan.filter((e) => e.action !== 'unchanged').map((e) => [e.name, e.action, e.reason]),
      [['db_password', 'update', 'value changed']],
    );
    assert.equal(report.results.find((r) => r.name === 'db_password')?.method, 'swap');
    const now = store.secrets();
    assert.notEqual(now.get('db_password')?.id, before.get('db_password')?.id);
    assert.equal(now.get('redis_password')?.id, before.get('redis_password')?.id);
    assert.equal(now.get('django_secret_key')?.id, before.get('django_secret_key')?.id);
    assert.deepEqual(store.storedValue('db_password'), Buffer.from(values.db_password));
    assert.ok(!now.has(stagingName('db_password')), 'staged copy removed');
  });

  test('a failure injected in the middle of a replace leaves the previous secret and a clear error', async (t) => {
    if (!requireTool(t, 'podman')) return;
    const previous = values.redis_password;
    const attempted = randomBytes(20).toString('hex');
    seen.push(attempted);
    store.failNextCreateOf('redis_password');
    const { report, failure } = await syncPodmanSecrets(backend(), keys, desired({ redis_password: attempted }));
    assert.ok(failure, 'the sync reports a failure');
    assert.equal(failure.code, 'EXTERNAL');
    assert.match(failure.message, /could not replace podman secret 'redis_password': .*injected failure.*the previous value was put back/);
    assert.ok(!failure.message.includes(attempted) && !failure.message.includes(previous.trim()));
    assert.equal(report.results.find((r) => r.name === 'redis_password')?.status, 'restored');
    assert.deepEqual(store.storedValue('redis_password'), Buffer.from(previous), 'previous value still in place');
    assert.ok(!store.secrets().has(stagingName('redis_password')), 'no staged copy left behind');
    // And the restored secret is recognised as holding the previous value.
    const again = await syncPodmanSecrets(backend(), keys, desired(), { dryRun: true });
    assert.equal(again.report.summary.unchanged, 3);
  });

  test('--prune removes only managed secrets the contract no longer names', async (t) => {
    if (!requireTool(t, 'podman')) return;
    store.podman(['secret', 'create', '--label', 'vaultsmith.managed=true', '--label', 'vaultsmith.env=staging', 'other_env', '-'], 'x1');
    const withoutPrune = await syncPodmanSecrets(backend(), keys, desired({}, ['django_secret_key']));
    assert.equal(withoutPrune.report.summary.prune, 0);
    assert.ok(store.secrets().has('django_secret_key'), 'kept without --prune');
    const { report, failure } = await syncPodmanSecrets(backend(), keys, desired({}, ['django_secret_key']), { prune: true });
    assert.equal(failure, undefined);
    assert.deepEqual(report.plan.filter((e) => e.action === 'prune').map((e) => e.name), ['django_secret_key']);
    const names = [...store.secrets().keys()].sort();
    assert.deepEqual(names, ['db_password', 'hand_made', 'other_env', 'redis_password']);
  });

  test('a name clash with a secret vaultsmith did not create is refused before any change', async (t) => {
    if (!requireTool(t, 'podman')) return;
    const before = store.secrets();
    const clash = [...desired(), { name: 'hand_made', value: randomBytes(8).toString('hex') }, { name: 'brand_new', value: 'v' }];
    const { report, failure } = await syncPodmanSecrets(backend(), keys, clash);
    assert.equal(failure?.code, 'CONFLICT');
    assert.match(failure?.message ?? '', /hand_made \(exists but was not created by vaultsmith\)/);
    assert.equal(report.results.find((r) => r.name === 'brand_new')?.status, 'not-run');
    assert.deepEqual(store.secrets(), before);
    assert.equal(store.storedValue('hand_made')?.toString(), 'not-managed-by-vaultsmith');
  });

  test('no podman process ever saw a secret value in its argv or environment', (t) => {
    if (!requireTool(t, 'podman')) return;
    const log = store.callLog();
    assert.ok(store.countCalls('secret', 'create') >= 6, 'the wrapper recorded the creates');
    assert.match(log, /CONTAINERS_STORAGE_CONF=/, 'the wrapper recorded the environment');
    for (const value of seen) {
      for (const fragment of new Set([value, value.trim()])) {
        assert.ok(!log.includes(fragment), 'a secret value appeared in a podman argv or environment');
      }
    }
  });
});
