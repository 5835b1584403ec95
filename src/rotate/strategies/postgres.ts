import pg from 'pg';
import { VaultsmithError } from '../../errors.js';
import { isScramVerifier, scramSha256Verifier } from '../scram.js';
import type { RotationStrategy, RotationValues, StrategyContext } from '../types.js';

/** Connection settings taken from the contract variables (DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD). */
export interface PgLogin {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
}

const INVALID_PASSWORD = '28P01';
const INVALID_AUTHORIZATION = '28000';
/** A query the server does not answer within this time fails (a stopped server must not hang a scheduled rotation). */
export const PG_QUERY_TIMEOUT_MS = 60_000;

function variableNames(ctx: StrategyContext) {
  const names = (ctx.spec.variables ?? {}) as Record<string, string>;
  return {
    host: names.host ?? 'DB_HOST',
    port: names.port ?? 'DB_PORT',
    database: names.database ?? 'DB_NAME',
    user: names.user ?? 'DB_USER',
    password: names.password ?? 'DB_PASSWORD',
  };
}

/** The login the application would use with these vault values. */
export function loginFromContract(ctx: StrategyContext, values: Record<string, unknown>): PgLogin {
  const rendered = ctx.renderVariables(values);
  const names = variableNames(ctx);
  const pick = (name: string) => {
    const value = rendered[name];
    if (value === undefined || value === '') {
      throw new VaultsmithError('MANIFEST', `rotation of ${ctx.secretKey}: contract variable ${name} is not set in ${ctx.env}`);
    }
    return value;
  };
  return {
    host: pick(names.host),
    port: Number(rendered[names.port] ?? 5432),
    database: pick(names.database),
    user: pick(names.user),
    password: pick(names.password),
  };
}

function pgError(what: string, e: unknown): VaultsmithError {
  const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
  return new VaultsmithError('EXTERNAL', `postgres: ${what}: ${message}`, { cause: e });
}

/**
 * Tries to log in. Returns false when the server rejects the credential; throws when the server
 * cannot be reached, so "unreachable" is never mistaken for "wrong password".
 */
export async function pgCanLogin(login: PgLogin): Promise<boolean> {
  const client = new pg.Client({ ...login, connectionTimeoutMillis: 10000, query_timeout: PG_QUERY_TIMEOUT_MS });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === INVALID_PASSWORD || code === INVALID_AUTHORIZATION) return false;
    throw pgError(`cannot connect to ${login.host}:${login.port} as ${login.user}`, e);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * An administrative connection: the --admin-url when given, else the first of the candidate logins
 * that the server accepts (a role may always change its own password).
 */
async function adminClient(ctx: StrategyContext, candidates: PgLogin[]): Promise<pg.Client> {
  const configs: pg.ClientConfig[] = ctx.adminUrl ? [{ connectionString: ctx.adminUrl }] : candidates;
  let lastError: unknown;
  for (const config of configs) {
    const client = new pg.Client({ ...config, connectionTimeoutMillis: 10000, query_timeout: PG_QUERY_TIMEOUT_MS });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return client;
    } catch (e) {
      lastError = e;
      await client.end().catch(() => undefined);
    }
  }
  throw pgError(
    ctx.adminUrl ? 'the administrative URL was not accepted' : 'no administrative login was accepted (give --admin-url or VAULTSMITH_ADMIN_URL)',
    lastError,
  );
}

/**
 * `ALTER ROLE ... PASSWORD '<verifier>'`: the statement cannot take a bind parameter, so the
 * verifier is embedded as a literal — safe because it is checked against the verifier's character
 * set first, and it is a hash, so the server log never sees the plaintext.
 */
export async function setRoleVerifier(client: pg.Client, role: string, password: string | null): Promise<void> {
  const identifier = client.escapeIdentifier(role);
  if (password === null) {
    await client.query(`ALTER ROLE ${identifier} PASSWORD NULL`);
    return;
  }
  const verifier = await scramSha256Verifier(password);
  if (!isScramVerifier(verifier)) throw new VaultsmithError('INTERNAL', 'unexpected SCRAM verifier shape');
  await client.query(`ALTER ROLE ${identifier} PASSWORD '${verifier}'`);
}

/**
 * Before anything is stored: the current login works, and a given administrative URL is accepted
 * too (a wrong one used to surface only after the pending value was stored, leaving a rotation to
 * abort by hand).
 */
async function acceptsWithAdmin(ctx: StrategyContext, values: RotationValues['values']): Promise<boolean> {
  if (!(await pgCanLogin(loginFromContract(ctx, values)))) return false;
  if (ctx.adminUrl) await (await adminClient(ctx, [])).end().catch(() => undefined);
  return true;
}

async function withAdmin<T>(ctx: StrategyContext, candidates: PgLogin[], fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = await adminClient(ctx, candidates);
  try {
    return await fn(client);
  } catch (e) {
    throw e instanceof VaultsmithError ? e : pgError('administrative statement failed', e);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Single login role: ALTER ROLE with a client-computed SCRAM verifier. The old password stops at apply. */
export const postgresStrategy: RotationStrategy = {
  name: 'postgres',
  generate: (ctx) => ctx.generateBase(),
  async apply(ctx, v: RotationValues) {
    const next = loginFromContract(ctx, { ...v.values, [ctx.secretKey]: v.pending });
    if (await pgCanLogin(next)) {
      ctx.log(`postgres: role ${next.user} already accepts the new password`);
      return;
    }
    const current = loginFromContract(ctx, v.values);
    await withAdmin(ctx, [current], (c) => setRoleVerifier(c, next.user, v.pending));
    ctx.log(`postgres: set a new SCRAM-SHA-256 verifier for role ${next.user}`);
  },
  async test(ctx, v) {
    const next = loginFromContract(ctx, { ...v.values, [ctx.secretKey]: v.pending });
    if (!(await pgCanLogin(next))) {
      throw new VaultsmithError('EXTERNAL', `postgres: role ${next.user} does not accept the new password`);
    }
    ctx.log(`postgres: logged in as ${next.user} with the new password`);
  },
  async finish() {
    // Nothing to retire: a role has one password, the old one stopped working at apply.
  },
  async revert(ctx, v) {
    const current = loginFromContract(ctx, v.values);
    if (await pgCanLogin(current)) return;
    const next = loginFromContract(ctx, { ...v.values, [ctx.secretKey]: v.pending });
    await withAdmin(ctx, [next], (c) => setRoleVerifier(c, current.user, v.current));
    ctx.log(`postgres: restored the previous password of role ${current.user}`);
  },
  async accepts(ctx, values) {
    return acceptsWithAdmin(ctx, values);
  },
};

/** The two login roles and the vault key that names the one in use. */
function alternatingRoles(ctx: StrategyContext): { roles: [string, string]; userKey: string } {
  const roles = ctx.spec.roles;
  if (!Array.isArray(roles) || roles.length !== 2 || roles.some((r) => typeof r !== 'string' || !r)) {
    throw new VaultsmithError('MANIFEST', `rotation of ${ctx.secretKey}: postgres-alternating needs roles: [<role a>, <role b>]`);
  }
  const userKey = typeof ctx.spec.user_key === 'string' ? ctx.spec.user_key : 'db_user';
  return { roles: [roles[0] as string, roles[1] as string], userKey };
}

function otherRole(ctx: StrategyContext, values: Record<string, unknown>): { inUse: string; other: string; userKey: string } {
  const { roles, userKey } = alternatingRoles(ctx);
  const inUse = values[userKey];
  if (typeof inUse !== 'string' || !roles.includes(inUse)) {
    throw new VaultsmithError('MANIFEST', `rotation of ${ctx.secretKey}: vault key ${userKey} must be one of ${roles.join(', ')}`);
  }
  return { inUse, other: inUse === roles[0] ? roles[1] : roles[0], userKey };
}

/**
 * Two login roles in one NOLOGIN owner role: each rotation sets a password on the role not in use,
 * then flips the user key, so connections made with the delivered settings never fail.
 */
export const postgresAlternatingStrategy: RotationStrategy = {
  name: 'postgres-alternating',
  generate: (ctx) => ctx.generateBase(),
  promoteEdits(ctx, v) {
    const { other, userKey } = otherRole(ctx, v.values);
    return { [userKey]: other };
  },
  async apply(ctx, v) {
    const { other, userKey } = otherRole(ctx, v.values);
    const next = loginFromContract(ctx, { ...v.values, [ctx.secretKey]: v.pending, [userKey]: other });
    if (await pgCanLogin(next)) {
      ctx.log(`postgres: standby role ${other} already accepts the new password`);
      return;
    }
    await withAdmin(ctx, [loginFromContract(ctx, v.values)], (c) => setRoleVerifier(c, other, v.pending));
    ctx.log(`postgres: set a new SCRAM-SHA-256 verifier for standby role ${other}`);
  },
  async test(ctx, v) {
    const { other, userKey } = otherRole(ctx, v.values);
    const next = loginFromContract(ctx, { ...v.values, [ctx.secretKey]: v.pending, [userKey]: other });
    if (!(await pgCanLogin(next))) throw new VaultsmithError('EXTERNAL', `postgres: role ${other} does not accept the new password`);
    ctx.log(`postgres: logged in as ${other} with the new password`);
  },
  async finish(ctx, v) {
    // After promotion the user key names the new role; the other one is retired (no password).
    const { other: retired } = otherRole(ctx, v.values);
    await withAdmin(ctx, [loginFromContract(ctx, v.values)], (c) => setRoleVerifier(c, retired, null));
    ctx.log(`postgres: retired the password of role ${retired}`);
  },
  async revert(ctx, v) {
    const { other } = otherRole(ctx, v.values);
    await withAdmin(ctx, [loginFromContract(ctx, v.values)], (c) => setRoleVerifier(c, other, null));
    ctx.log(`postgres: cleared the password of standby role ${other}`);
  },
  async accepts(ctx, values) {
    return acceptsWithAdmin(ctx, values);
  },
};

/**
 * The one-time set-up for postgres-alternating (run with an administrative URL): a NOLOGIN owner role
 * and two LOGIN roles that are members of it and act as it (`SET role`), so objects stay owned by
 * the owner whichever login created them. Idempotent.
 */
export async function setupAlternatingRoles(
  adminUrl: string,
  options: { owner: string; roles: [string, string]; database?: string },
): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10000, query_timeout: PG_QUERY_TIMEOUT_MS });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const exists = async (role: string) =>
      (await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount === 1;
    const owner = client.escapeIdentifier(options.owner);
    if (!(await exists(options.owner))) await client.query(`CREATE ROLE ${owner} NOLOGIN`);
    for (const role of options.roles) {
      const id = client.escapeIdentifier(role);
      if (!(await exists(role))) await client.query(`CREATE ROLE ${id} LOGIN IN ROLE ${owner}`);
      await client.query(`ALTER ROLE ${id} SET role = ${client.escapeLiteral(options.owner)}`);
    }
    if (options.database) {
      await client.query(`GRANT ALL PRIVILEGES ON DATABASE ${client.escapeIdentifier(options.database)} TO ${owner}`);
    }
  } catch (e) {
    throw pgError('alternating-roles set-up failed', e);
  } finally {
    await client.end().catch(() => undefined);
  }
}
