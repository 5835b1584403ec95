import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateSecret } from '../../src/gen/index.js';
import { makeIsolatedPodman } from '../deliver/podman-store.js';
import { runCli } from '../helpers/cli.js';
import { requireTool } from '../helpers/tools.js';
import { makeProject } from '../rotate/fixture.js';

test('rotate delivers to Podman: the secret store holds the new SECRET_KEY and its fallback after delivery', async (t) => {
  if (!requireTool(t, 'podman')) return;
  const podman = await makeIsolatedPodman();
  t.after(() => podman.cleanup());
  const oldKey = generateSecret({ kind: 'django-secret-key' });
  const project = await makeProject(
    {
      secrets: {
        secret_key: {
          generate: 'django-secret-key',
          rotation: { strategy: 'django-secret-key', period: '90d', grace: '7d', fallbacks_key: 'secret_key_fallbacks' },
        },
        secret_key_fallbacks: { required: false },
      },
      variables: {
        SECRET_KEY: { secret: 'secret_key', services: ['django'], podman: { secret: 'django_secret_key', type: 'env' } },
        SECRET_KEY_FALLBACKS: { secret: 'secret_key_fallbacks', optional: true, services: ['django'], podman: { secret: 'django_secret_key_fallbacks' } },
      },
      services: { django: { restart: 'echo restarted >> restarts.log' } },
    },
    { secret_key: oldKey },
  );
  t.after(() => project.cleanup());
  const env = { ...project.env, ...podman.env, HOME: project.home };
  const r = await runCli(['rotate', 'test', 'secret_key'], { cwd: project.dir, env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /synced the Podman secrets/);
  assert.doesNotMatch(r.stderr, /not delivered as (a )?Podman secrets?/, 'every variable of the rotation travels as a Podman secret');
  const values = await project.readVault();
  assert.ok(podman.storedValue('django_secret_key')?.toString() === values.secret_key, 'Podman holds the new key');
  assert.ok(podman.storedValue('django_secret_key_fallbacks')?.toString() === oldKey, 'Podman holds the old key as fallback');
  assert.ok(!podman.callLog().includes(String(values.secret_key)), 'the key never appeared in podman argv or environment');
});
