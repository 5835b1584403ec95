import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PodmanApiBackend, deliveryKeysFromSecret, syncPodmanSecrets } from '../../src/deliver/podman/index.js';
import { type IsolatedPodman, makeIsolatedPodman } from '../deliver/podman-store.js';
import { hasTool, requireTool } from '../helpers/tools.js';

// The libpod REST path, against `podman system service` on a temporary unix socket.
describe('podman sync through the libpod REST API', { concurrency: false }, () => {
  let store: IsolatedPodman;
  let service: ChildProcess | undefined;
  let url = '';
  const keys = deliveryKeysFromSecret(randomBytes(32), 'staging');
  const values: Record<string, string> = {
    api_db_password: randomBytes(24).toString('base64url'),
    api_token: `${randomBytes(16).toString('hex')}\n`,
  };

  before(async () => {
    if (!hasTool('podman')) return;
    store = await makeIsolatedPodman();
    const socket = join(store.dir, 'podman.sock');
    url = `unix://${socket}`;
    // --time bounds the service's life should this test die before after() runs.
    service = spawn(store.env.VAULTSMITH_TEST_REAL_PODMAN ?? 'podman', ['system', 'service', '--time=60', url], {
      env: { ...store.env, PATH: process.env.PATH },
      stdio: 'ignore',
    });
    for (let i = 0; i < 100 && !existsSync(socket); i++) await sleep(50);
    assert.ok(existsSync(socket), 'podman system service did not create its socket');
  });
  after(async () => {
    if (service && service.exitCode === null) {
      const exited = once(service, 'exit');
      service.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
    }
    await store?.cleanup();
  });
  const desired = () => Object.entries(values).map(([name, value]) => ({ name, value }));

  test('creates secrets over the API with exact bytes and labels; no podman CLI call', async (t) => {
    if (!requireTool(t, 'podman')) return;
    const backend = new PodmanApiBackend({ url });
    assert.equal(await backend.supportsReplace(), false, 'Podman 4.3 has no replace');
    const { report, failure } = await syncPodmanSecrets(backend, keys, desired());
    assert.equal(failure, undefined);
    assert.equal(report.summary.create, 2);
    assert.equal(report.backend, `libpod API at ${url}`);
    for (const [name, value] of Object.entries(values)) assert.deepEqual(store.storedValue(name), Buffer.from(value));
    assert.equal(store.secrets().get('api_token')?.labels['vaultsmith.env'], 'staging');
    assert.equal(store.countCalls('secret'), 0, 'the podman CLI wrapper was never run');
  });

  test('a second sync is a no-op and a changed value is swapped in', async (t) => {
    if (!requireTool(t, 'podman')) return;
    const backend = new PodmanApiBackend({ url });
    const first = await syncPodmanSecrets(backend, keys, desired());
    assert.equal(first.report.summary.unchanged, 2);
    const before = store.secrets();
    values.api_token = randomBytes(16).toString('hex');
    const { report, failure } = await syncPodmanSecrets(backend, keys, desired());
    assert.equal(failure, undefined);
    assert.deepEqual(report.results.map((r) => [r.name, r.action, r.status]), [
      ['api_db_password', 'unchanged', 'unchanged'],
      ['api_token', 'update', 'done'],
    ]);
    const now = store.secrets();
    assert.equal(now.get('api_db_password')?.id, before.get('api_db_password')?.id);
    assert.deepEqual(store.storedValue('api_token'), Buffer.from(values.api_token));
  });

  test('--prune over the API removes only managed secrets', async (t) => {
    if (!requireTool(t, 'podman')) return;
    store.podman(['secret', 'create', 'by_hand', '-'], 'hand');
    const { failure } = await syncPodmanSecrets(new PodmanApiBackend({ url }), keys, [
      { name: 'api_token', value: values.api_token ?? '' },
    ], { prune: true });
    assert.equal(failure, undefined);
    assert.deepEqual([...store.secrets().keys()].sort(), ['api_token', 'by_hand']);
  });

  test('a socket nobody listens on is a clear EXTERNAL error', async () => {
    const backend = new PodmanApiBackend({ url: 'unix:///nonexistent/vaultsmith/podman.sock' });
    await assert.rejects(backend.list(), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'EXTERNAL');
      assert.match(e.message, /cannot reach the Podman service at unix:\/\/\/nonexistent\/vaultsmith\/podman\.sock: no Podman service listening/);
      return true;
    });
  });
});
