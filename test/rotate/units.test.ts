import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAge, parseDuration } from '../../src/rotate/duration.js';
import { splitKeyList } from '../../src/rotate/key-list.js';
import { redisCanLogin, redisPasswordHash } from '../../src/rotate/strategies/redis.js';
import { freePort } from '../helpers/postgres.js';
import { getStrategy } from '../../src/rotate/strategies/index.js';
import { renderPrometheus, type SecretStatus } from '../../src/services/status.js';

test('parseDuration / formatAge', () => {
  assert.equal(parseDuration('90d'), 90 * 86_400_000);
  assert.equal(parseDuration('2w'), 14 * 86_400_000);
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration(undefined), 0);
  assert.throws(() => parseDuration('1y'), /invalid duration '1y'/);
  assert.equal(formatAge(45_000), '45s');
  assert.equal(formatAge(3 * 3_600_000), '3h');
  assert.equal(formatAge(12 * 86_400_000 + 5), '12d');
});

test('redisPasswordHash is the SHA-256 hex Redis ACL stores', () => {
  assert.equal(redisPasswordHash('foobar'), 'c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2');
});

test('splitKeyList keeps order and drops blanks', () => {
  assert.deepEqual(splitKeyList('a, b,,c'), ['a', 'b', 'c']);
  assert.deepEqual(splitKeyList(undefined), []);
});

test('unknown strategy is a manifest error naming the choices', () => {
  assert.throws(() => getStrategy('vaultwarden'), /unknown rotation strategy 'vaultwarden'/);
});

test('renderPrometheus escapes label values and declares every metric', () => {
  const status: SecretStatus = {
    env: 'prod"x',
    secret: 'a\\b',
    strategy: 'redis',
    period: '90d',
    periodSeconds: 7_776_000,
    lastChangedAt: '2026-01-01T00:00:00.000Z',
    lastRotatedAt: null,
    source: 'history',
    ageSeconds: 10,
    dueAt: '2026-04-01T00:00:00.000Z',
    overdue: false,
    rotationPhase: null,
    rotationInProgress: false,
    finishAfter: null,
    graceEnded: false,
  };
  const text = renderPrometheus([status]);
  assert.match(text, /^vaultsmith_secret_age_seconds\{env="prod\\"x",secret="a\\\\b",strategy="redis"\} 10$/m);
  assert.match(text, /^vaultsmith_secret_last_rotation_timestamp_seconds\{.*\} 0$/m);
  assert.match(text, /^vaultsmith_secret_due_timestamp_seconds\{.*\} 1775001600$/m);
  assert.equal(text.match(/^# TYPE /gm)?.length, 6);
});

test('redis: an unreachable server is reported with its address and reason, never the password', async () => {
  const port = await freePort(); // nothing listens there
  const password = 'pw-' + Math.random().toString(36).slice(2);
  await assert.rejects(redisCanLogin(`redis://:${password}@127.0.0.1:${port}/0`), (e: Error) => {
    assert.match(e.message, new RegExp(`^redis: cannot connect to 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    assert.ok(!e.message.includes(password));
    return true;
  });
});

test('redis: a server that accepts connections but never answers fails after the timeout instead of hanging', async () => {
  const { createServer } = await import('node:net');
  const sockets: import('node:net').Socket[] = [];
  const silent = createServer((socket) => void sockets.push(socket)); // like a SIGSTOPped redis-server
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const port = (silent.address() as import('node:net').AddressInfo).port;
  const started = Date.now();
  try {
    await assert.rejects(redisCanLogin(`redis://:secret-pw@127.0.0.1:${port}/0`, { timeoutMs: 300 }), (e: Error) => {
      assert.equal(e.message, `redis: 127.0.0.1:${port} did not answer within 300 ms`);
      assert.ok(!e.message.includes('secret-pw'));
      return true;
    });
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  } finally {
    for (const socket of sockets) socket.destroy();
    silent.close();
  }
});
