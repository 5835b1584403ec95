import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { VaultsmithError } from '../../errors.js';
import type { RotationStrategy, StrategyContext } from '../types.js';

/** Redis ACL stores passwords as SHA-256 hex; `#<hex>` adds one by hash, `!<hex>` removes it. */
export function redisPasswordHash(password: string): string {
  return createHash('sha256').update(password, 'utf8').digest('hex');
}

interface RedisTarget {
  url: string;
  user: string;
}

function urlVariable(ctx: StrategyContext): string {
  return typeof ctx.spec.url_variable === 'string' ? ctx.spec.url_variable : 'REDIS_URL';
}

/** The Redis URL the application would use with these values, and the ACL user it logs in as. */
export function redisTarget(ctx: StrategyContext, values: Record<string, unknown>): RedisTarget {
  const name = urlVariable(ctx);
  const url = ctx.renderVariables(values)[name];
  if (!url) throw new VaultsmithError('MANIFEST', `rotation of ${ctx.secretKey}: contract variable ${name} is not set in ${ctx.env}`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new VaultsmithError('MANIFEST', `rotation of ${ctx.secretKey}: ${name} is not a valid URL`);
  }
  return { url, user: decodeURIComponent(parsed.username) || 'default' };
}

function redisError(what: string, e: unknown): VaultsmithError {
  const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
  return new VaultsmithError('EXTERNAL', `redis: ${what}: ${message}`, { cause: e });
}

/** `host:port` of a Redis URL, for messages (never the credentials in it). */
function endpointOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname || '127.0.0.1'}:${parsed.port || '6379'}`;
  } catch {
    return 'the configured address';
  }
}

/** Why ioredis could not connect: its 'error' event has the reason (ECONNREFUSED ...), connect() only says "closed". */
function connectFailure(e: unknown, eventError: string): unknown {
  return eventError ? new Error(eventError) : e;
}

/** How long a connection or a command may take before the server counts as not answering. */
export const REDIS_TIMEOUT_MS = 10_000;

function connectOnce(url: string, timeoutMs = REDIS_TIMEOUT_MS): Redis {
  // No retries and no offline queue: a failed login must surface at once, not be retried forever.
  // The command timeout covers a server that accepts the connection but never answers (stopped,
  // overloaded): without it a scheduled rotation would wait forever holding its locks.
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
  });
  client.on('error', () => undefined);
  return client;
}

const AUTH_FAILURE = /WRONGPASS|NOAUTH|invalid username-password|invalid password/i;

/** True when the server accepts the URL's credentials; throws when it cannot be reached. */
export async function redisCanLogin(url: string, options: { timeoutMs?: number } = {}): Promise<boolean> {
  const timeoutMs = options.timeoutMs ?? REDIS_TIMEOUT_MS;
  const started = Date.now();
  const client = connectOnce(url, timeoutMs);
  // A refused AUTH during connect surfaces as an 'error' event; connect() then only says "closed".
  let eventError = '';
  client.on('error', (e: Error) => (eventError = e.message));
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch (e) {
    if (AUTH_FAILURE.test(`${e instanceof Error ? e.message : String(e)} ${eventError}`)) return false;
    if (Date.now() - started >= timeoutMs) {
      throw new VaultsmithError('EXTERNAL', `redis: ${endpointOf(url)} did not answer within ${timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`}`, { cause: e });
    }
    throw redisError(`cannot connect to ${endpointOf(url)}`, connectFailure(e, eventError));
  } finally {
    client.disconnect();
  }
}

async function withAdmin<T>(ctx: StrategyContext, candidates: string[], fn: (c: Redis) => Promise<T>): Promise<T> {
  let lastError: unknown;
  for (const url of ctx.adminUrl ? [ctx.adminUrl] : candidates) {
    const client = connectOnce(url);
    let eventError = '';
    client.on('error', (e: Error) => (eventError = e.message));
    try {
      await client.connect();
    } catch (e) {
      lastError = connectFailure(e, eventError);
      client.disconnect();
      continue;
    }
    try {
      return await fn(client);
    } catch (e) {
      throw e instanceof VaultsmithError ? e : redisError('ACL command failed', e);
    } finally {
      client.disconnect();
    }
  }
  throw redisError(
    ctx.adminUrl
      ? `the administrative URL (${endpointOf(ctx.adminUrl)}) was not accepted`
      : 'no administrative login was accepted (give --admin-url or VAULTSMITH_ADMIN_URL)',
    lastError,
  );
}

/** The SHA-256 hashes of the user's passwords, from `ACL GETUSER`. */
async function passwordHashes(client: Redis, user: string): Promise<string[]> {
  const reply = (await client.call('ACL', 'GETUSER', user)) as unknown[] | null;
  if (!reply) throw new VaultsmithError('EXTERNAL', `redis: ACL user ${user} does not exist`);
  for (let i = 0; i + 1 < reply.length; i += 2) {
    if (String(reply[i]) === 'passwords') return (reply[i + 1] as unknown[]).map(String);
  }
  return [];
}

/**
 * Makes an ACL change survive a restart the way the server is configured: `ACL SAVE` when it uses an
 * ACL file, else `CONFIG REWRITE` when it has a config file (users then live in redis.conf).
 */
async function persistAcl(ctx: StrategyContext, client: Redis): Promise<void> {
  const mode = typeof ctx.spec.persist === 'string' ? ctx.spec.persist : 'auto';
  if (mode === 'none') return;
  const aclfile = ((await client.call('CONFIG', 'GET', 'aclfile')) as string[])[1] ?? '';
  if (mode === 'acl-save' || (mode === 'auto' && aclfile)) {
    await client.call('ACL', 'SAVE');
    return;
  }
  try {
    await client.call('CONFIG', 'REWRITE');
  } catch (e) {
    if (mode === 'config-rewrite') throw redisError('CONFIG REWRITE failed', e);
    ctx.log('redis: warning: no aclfile and no config file; the ACL change lasts until the server restarts');
  }
}

/**
 * ACL dual passwords: add the new password by hash (the old keeps working), deliver, then remove the
 * old one by hash. Never `CONFIG SET requirepass`, which replaces every password of the default user.
 */
export const redisStrategy: RotationStrategy = {
  name: 'redis',
  generate: (ctx) => ctx.generateBase(),
  async apply(ctx, v) {
    const current = redisTarget(ctx, v.values);
    const next = redisTarget(ctx, { ...v.values, [ctx.secretKey]: v.pending });
    const hash = redisPasswordHash(v.pending);
    await withAdmin(ctx, [current.url, next.url], async (client) => {
      if ((await passwordHashes(client, next.user)).includes(hash)) {
        ctx.log(`redis: user ${next.user} already has the new password`);
        return;
      }
      await client.call('ACL', 'SETUSER', next.user, `#${hash}`);
      await persistAcl(ctx, client);
      ctx.log(`redis: added the new password to user ${next.user} by hash (the old one still works)`);
    });
  },
  async test(ctx, v) {
    const next = redisTarget(ctx, { ...v.values, [ctx.secretKey]: v.pending });
    if (!(await redisCanLogin(next.url))) throw new VaultsmithError('EXTERNAL', `redis: user ${next.user} does not accept the new password`);
    ctx.log(`redis: logged in as ${next.user} with the new password`);
  },
  async finish(ctx, v) {
    if (v.previous === v.current) return;
    const current = redisTarget(ctx, v.values);
    const hash = redisPasswordHash(v.previous);
    await withAdmin(ctx, [current.url], async (client) => {
      if (!(await passwordHashes(client, current.user)).includes(hash)) return;
      await client.call('ACL', 'SETUSER', current.user, `!${hash}`);
      await persistAcl(ctx, client);
      ctx.log(`redis: removed the old password of user ${current.user} by hash`);
    });
  },
  async revert(ctx, v) {
    if (v.pending === v.current) return;
    const current = redisTarget(ctx, v.values);
    const hash = redisPasswordHash(v.pending);
    await withAdmin(ctx, [current.url], async (client) => {
      if (!(await passwordHashes(client, current.user)).includes(hash)) return;
      await client.call('ACL', 'SETUSER', current.user, `!${hash}`);
      await persistAcl(ctx, client);
      ctx.log(`redis: removed the unused new password of user ${current.user}`);
    });
  },
  async accepts(ctx, values) {
    return redisCanLogin(redisTarget(ctx, values).url);
  },
};
