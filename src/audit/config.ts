import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { VaultsmithError } from '../errors.js';
import { findManifest } from '../manifest/find.js';

export interface AuditPostgresConfig {
  /** Connection string (from the environment variable named by `url_env`; never from the manifest). */
  url: string;
  urlEnv: string;
  table: string;
}

/** Where events go and which key seals them. */
export interface AuditConfig {
  enabled: boolean;
  /** JSON-lines file; null when the file sink is disabled. */
  file: string | null;
  keyFile: string;
  postgres: AuditPostgresConfig | null;
  /** Directory of vaultsmith.yaml when one was found (key files must live outside it). */
  projectDir: string | null;
}

export interface AuditEnvironment {
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export const DEFAULT_PG_URL_ENV = 'VAULTSMITH_AUDIT_DATABASE_URL';
export const DEFAULT_PG_TABLE = 'vaultsmith_audit';

function expandHome(p: string, env: NodeJS.ProcessEnv): string {
  if (p === '~' || p.startsWith('~/')) return join(env.HOME || homedir(), p.slice(1));
  return p;
}

function homeDir(env: NodeJS.ProcessEnv): string {
  return env.HOME || homedir();
}

/**
 * The `audit:` section of vaultsmith.yaml, read directly so the audit trail works even when the rest
 * of the manifest is being edited or invalid.
 */
async function readManifestAuditSection(manifestPath: string): Promise<Record<string, unknown>> {
  let doc: unknown;
  try {
    // Loaded only when there is a manifest: keeps the YAML parser out of plain vault commands' start-up.
    const { default: YAML } = await import('yaml');
    doc = YAML.parse(readFileSync(manifestPath, 'utf8'));
  } catch (e) {
    throw new VaultsmithError('MANIFEST', `cannot read the audit settings of ${manifestPath}: ${e instanceof Error ? e.message.split('\n')[0] : e}`);
  }
  const audit = doc && typeof doc === 'object' ? (doc as Record<string, unknown>).audit : undefined;
  if (audit === undefined || audit === null) return {};
  if (typeof audit !== 'object' || Array.isArray(audit)) {
    throw new VaultsmithError('MANIFEST', `${manifestPath}: 'audit' must be a mapping`);
  }
  return audit as Record<string, unknown>;
}

/**
 * Resolves the audit configuration. Precedence: environment (VAULTSMITH_AUDIT_LOG,
 * VAULTSMITH_AUDIT_KEY_FILE, VAULTSMITH_AUDIT=off), then `audit:` in vaultsmith.yaml, then defaults:
 * `$XDG_STATE_HOME/vaultsmith/audit.jsonl` and `$XDG_CONFIG_HOME/vaultsmith/audit.key`.
 */
export async function resolveAuditConfig(ctx: AuditEnvironment, options: { manifestPath?: string } = {}): Promise<AuditConfig> {
  const env = ctx.env;
  const manifestPath = options.manifestPath ? resolve(ctx.cwd, options.manifestPath) : findManifest(ctx.cwd);
  const section = manifestPath ? await readManifestAuditSection(manifestPath) : {};
  const projectDir = manifestPath ? dirname(manifestPath) : null;
  const fromManifest = (p: string) => {
    const expanded = expandHome(p, env);
    return isAbsolute(expanded) ? expanded : resolve(projectDir ?? ctx.cwd, expanded);
  };

  const disabled = env.VAULTSMITH_AUDIT === 'off' || section.enabled === false;

  let file: string | null;
  if (env.VAULTSMITH_AUDIT_LOG) file = resolve(ctx.cwd, expandHome(env.VAULTSMITH_AUDIT_LOG, env));
  else if (section.file === false) file = null;
  else if (typeof section.file === 'string') file = fromManifest(section.file);
  else {
    const stateHome = env.XDG_STATE_HOME || join(homeDir(env), '.local', 'state');
    file = join(stateHome, 'vaultsmith', 'audit.jsonl');
  }

  let keyFile: string;
  if (env.VAULTSMITH_AUDIT_KEY_FILE) keyFile = resolve(ctx.cwd, expandHome(env.VAULTSMITH_AUDIT_KEY_FILE, env));
  else if (typeof section.key_file === 'string') keyFile = fromManifest(section.key_file);
  else keyFile = join(env.XDG_CONFIG_HOME || join(homeDir(env), '.config'), 'vaultsmith', 'audit.key');

  let postgres: AuditPostgresConfig | null = null;
  const pgSection = section.postgres;
  if (pgSection !== undefined && pgSection !== null && pgSection !== false) {
    const pg = typeof pgSection === 'object' ? (pgSection as Record<string, unknown>) : {};
    const urlEnv = typeof pg.url_env === 'string' ? pg.url_env : DEFAULT_PG_URL_ENV;
    const table = typeof pg.table === 'string' ? pg.table : DEFAULT_PG_TABLE;
    const url = env[urlEnv];
    if (!url) {
      throw new VaultsmithError('AUDIT', `the PostgreSQL audit sink is configured but ${urlEnv} is not set`, {
        hint: `export ${urlEnv}=postgres://writer@host/db (the writer role may only INSERT)`,
      });
    }
    postgres = { url, urlEnv, table };
  } else if (env[DEFAULT_PG_URL_ENV]) {
    postgres = { url: env[DEFAULT_PG_URL_ENV] as string, urlEnv: DEFAULT_PG_URL_ENV, table: DEFAULT_PG_TABLE };
  }
  if (postgres && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(postgres.table)) {
    throw new VaultsmithError('MANIFEST', `audit.postgres.table '${postgres.table}' is not a plain SQL identifier`);
  }

  if (!disabled && projectDir && isInside(keyFile, projectDir)) {
    throw new VaultsmithError('AUDIT', `the audit key file ${keyFile} is inside the project directory`, {
      hint: 'keep it outside the repository (e.g. ~/.config/vaultsmith/), like vault password files',
    });
  }
  return { enabled: !disabled && (file !== null || postgres !== null), file, keyFile, postgres, projectDir };
}

export function isInside(path: string, dir: string): boolean {
  const d = resolve(dir);
  const p = resolve(path);
  return p === d || p.startsWith(d.endsWith(sep) ? d : d + sep);
}
