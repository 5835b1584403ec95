import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { quadletDropInPath, quadletSecretLine, quadletSecretLines, renderQuadletDropIn } from '../../src/deliver/quadlet.js';

describe('Quadlet Secret= drop-ins', () => {
  test('env and mount lines', () => {
    assert.equal(quadletSecretLine({ secret: 'db_password', type: 'env', target: 'DB_PASSWORD' }), 'Secret=db_password,type=env,target=DB_PASSWORD');
    assert.equal(
      quadletSecretLine({ secret: 'tls_key', type: 'mount', target: '/run/secrets/tls.key' }),
      'Secret=tls_key,type=mount,target=/run/secrets/tls.key,mode=0400',
    );
  });

  test('targets that would break the option list or the ini line are refused', () => {
    assert.throws(() => quadletSecretLine({ secret: 's', type: 'env', target: 'BAD-NAME' }), /invalid env target 'BAD-NAME'/);
    assert.throws(() => quadletSecretLine({ secret: 's', type: 'mount', target: '/a,b' }), /invalid mount target/);
    assert.throws(() => quadletSecretLine({ secret: 's', type: 'mount', target: '/a\nExec=x' }), /invalid mount target/);
    assert.throws(() => quadletSecretLine({ secret: 'bad name', type: 'env', target: 'X' }), /invalid podman secret name/);
  });

  test('duplicates collapse; two secrets on one target are an error', () => {
    const same = { secret: 's', type: 'env' as const, target: 'X' };
    assert.deepEqual(quadletSecretLines([same, same]), ['Secret=s,type=env,target=X']);
    assert.throws(() => quadletSecretLines([same, { ...same, secret: 't' }]), /'s' and 't' both target env X/);
  });

  test('the drop-in is a [Container] section beside the unit', () => {
    const text = renderQuadletDropIn({
      unit: 'django.container',
      environment: 'production',
      service: 'django',
      bindings: [{ secret: 'k', type: 'env', target: 'SECRET_KEY' }],
    });
    assert.match(text, /^# Written by 'vaultsmith podman quadlet production --service django'; do not edit\.\n/);
    assert.match(text, /\n\[Container\]\nSecret=k,type=env,target=SECRET_KEY\n$/);
    assert.equal(quadletDropInPath('/q', 'django.container'), '/q/django.container.d/50-vaultsmith-secrets.conf');
    assert.throws(() => quadletDropInPath('/q', 'django.service'), /not a Quadlet \.container unit/);
  });
});
