import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { Redis } from 'ioredis';
import { startPostgres } from '../helpers/postgres.js';
import { startRedis } from '../helpers/redis.js';
import { requireTool } from '../helpers/tools.js';

test('startPostgres: admin URL logs in over TCP with SCRAM and stop() removes the server', async (t) => {
  if (!requireTool(t, '/usr/lib/postgresql/15/bin/pg_ctl')) return;
  const server = await startPostgres();
  try {
    const client = new pg.Client({ connectionString: server.adminUrl });
    await client.connect();
    const r = await client.query<{ password_encryption: string }>('SHOW password_encryption');
    assert.equal(r.rows[0]?.password_encryption, 'scram-sha-256');
    await client.end();
  } finally {
    await server.stop();
  }
});

test('startRedis: server answers PING on its port', async (t) => {
  if (!requireTool(t, 'redis-server')) return;
  const server = await startRedis();
  try {
    const redis = new Redis({ host: server.host, port: server.port, lazyConnect: true, maxRetriesPerRequest: 0 });
    await redis.connect();
    assert.equal(await redis.ping(), 'PONG');
    redis.disconnect();
  } finally {
    await server.stop();
  }
});
