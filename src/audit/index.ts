import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { resolve } from 'node:path';
import { VaultsmithError, isVaultsmithError } from '../errors.js';
import { findManifest } from '../manifest/find.js';
import { VERSION } from '../version.js';
import { resolveAuditConfig, type AuditConfig, type AuditEnvironment } from './config.js';
import { verifyChain, type AuditActor, type AuditEvent, type AuditEventInput, type AuditOutcome, type VerifyResult } from './event.js';
import { appendFileEvent, fileSinkHasEvents, preflightFileSink, readFileEvents, readFileHead } from './file-sink.js';
import { loadAuditKey } from './key.js';
import { appendPostgresEvent, preflightPostgresSink, readPostgresEvents } from './postgres-sink.js';

export { resolveAuditConfig, type AuditConfig, type AuditEnvironment } from './config.js';
export {
  canonicalJson,
  computeMac,
  verifyChain,
  GENESIS,
  type AuditActor,
  type AuditEvent,
  type AuditEventInput,
  type AuditOutcome,
  type ChainProblem,
  type VerifyResult,
} from './event.js';
export { postgresAuditSchemaSql } from './postgres-sink.js';
export { loadAuditKey } from './key.js';

export interface AuditOptions {
  /** An explicit vaultsmith.yaml (else it is searched for from ctx.cwd). */
  manifestPath?: string;
}

/** Who is acting: OS user, uid, host and the git identity of the working directory. */
export async function currentActor(ctx: AuditEnvironment): Promise<AuditActor> {
  let pending = actors.get(ctx);
  if (!pending) {
    pending = lookUpActor(ctx);
    actors.set(ctx, pending);
  }
  return pending;
}

// One look-up per command run, started by the preflight so the `git config` child runs while the
// vault key is being derived instead of after it.
const actors = new WeakMap<AuditEnvironment, Promise<AuditActor>>();

async function lookUpActor(ctx: AuditEnvironment): Promise<AuditActor> {
  let user = ctx.env.USER || ctx.env.LOGNAME || 'unknown';
  let uid: number | null = process.getuid?.() ?? null;
  try {
    const info = userInfo();
    user = info.username;
    uid = info.uid;
  } catch {
    // no passwd entry (containers); keep the environment's idea
  }
  const email = await gitUserEmail(ctx);
  return { user, uid, host: hostname(), git_email: email || null };
}

function gitUserEmail(ctx: AuditEnvironment): Promise<string> {
  return new Promise((resolveEmail) => {
    execFile('git', ['config', 'user.email'], { cwd: ctx.cwd, env: ctx.env, encoding: 'utf8', timeout: 5000 }, (err, stdout) =>
      resolveEmail(err ? '' : stdout.trim()),
    );
  });
}

/**
 * Checks every configured sink can be written and the key is usable, before the audited operation
 * runs (fail closed: a secret is not revealed or changed when its access could not be recorded).
 */
export async function preflightAudit(ctx: AuditEnvironment, options: AuditOptions = {}): Promise<AuditConfig> {
  const config = await resolveAuditConfig(ctx, options);
  if (!config.enabled) return config;
  void currentActor(ctx);
  let hasEvents = false;
  if (config.file) {
    await preflightFileSink(config.file);
    hasEvents = await fileSinkHasEvents(config.file);
  }
  if (config.postgres) hasEvents = (await preflightPostgresSink(config.postgres)).hasEvents || hasEvents;
  await loadKeyForSinks(config, hasEvents);
  return config;
}

/**
 * The audit key, created only while no sink holds events: a missing key next to an existing chain
 * (a new team member without the shared key file, a lost file) must not silently start sealing with
 * a fresh key, which would break the shared chain from that event on.
 */
async function loadKeyForSinks(config: AuditConfig, hasEvents: boolean): Promise<Buffer> {
  if (hasEvents && !existsSync(config.keyFile)) {
    throw new VaultsmithError('AUDIT', `the audit key file ${config.keyFile} is missing but the audit log already holds events; refusing the operation`, {
      hint: "copy the audit key the log was sealed with there (teams share it like vault password files), or point VAULTSMITH_AUDIT_KEY_FILE at it",
    });
  }
  return loadAuditKey(config.keyFile, { create: !hasEvents });
}

/**
 * Records one event in every configured sink. Throws VaultsmithError('AUDIT') when any sink cannot
 * be written; callers treat that as a refusal. Values are never part of an event: only names.
 */
export async function recordAudit(ctx: AuditEnvironment, input: AuditEventInput, options: AuditOptions = {}): Promise<AuditEvent[]> {
  const config = await resolveAuditConfig(ctx, options);
  if (!config.enabled) return [];
  // Without a preflight (library callers) only an empty file log may get a fresh key.
  const key = await loadKeyForSinks(config, existsSync(config.keyFile) || config.postgres !== null || (config.file !== null && (await fileSinkHasEvents(config.file))));
  const body = {
    time: new Date().toISOString(),
    actor: await currentActor(ctx),
    command: input.command,
    env: input.env ?? (await environmentOfFile(ctx, input.file, options)),
    file: input.file ? abbreviateFileList(input.file) : null,
    label: input.label ?? null,
    secrets: [...new Set(input.secrets ?? [])].sort(),
    outcome: input.outcome,
    error: input.error ?? null,
    version: VERSION,
  };
  const written: AuditEvent[] = [];
  if (config.file) written.push(await appendFileEvent(config.file, key, body));
  if (config.postgres) written.push(await appendPostgresEvent(config.postgres, key, body));
  return written;
}

/**
 * The top-level keys of decrypted vault YAML: the secret names recorded for whole-file reads (view,
 * decrypt, edit). Never returns values; anything that is not a YAML mapping yields no names.
 */
export function secretNamesOf(plaintext: string | Uint8Array): string[] {
  // Vault files are small YAML mappings; anything large (a vaulted binary, a tarball) has no names
  // worth recording and is not worth scanning.
  if (plaintext.length > MAX_NAMED_PLAINTEXT) return [];
  const text = typeof plaintext === 'string' ? plaintext : Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength).toString('utf8');
  // Top-level keys of a block mapping (also right for a vault holding merge conflict markers). A
  // line scan rather than a YAML parse keeps the parser out of every command's start-up.
  const names = new Set<string>();
  for (const m of text.matchAll(TOP_LEVEL_KEY)) {
    const key = m[1] ?? m[2] ?? m[3];
    if (key !== undefined) names.add(key);
  }
  return [...names];
}

const MAX_NAMED_PLAINTEXT = 1024 * 1024;
/** `key:`, `"key":` or `'key':` at column 0, followed by a space or the end of the line. */
const TOP_LEVEL_KEY = /^(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\n]|'')*)'|([^\s#'"\-?:{}[\],&*!|>%@`][^:\n]*?|-[^\s:\n][^:\n]*?))[ \t]*:(?=[ \t]|\r?$)/gm;

/** A batch command over hundreds of files records the first few and a count, not a 10 KB line. */
export function abbreviateFileList(file: string, keep = 20): string {
  const files = file.split(', ');
  return files.length <= keep ? file : `${files.slice(0, keep).join(', ')} (+${files.length - keep} more)`;
}

/** The vault-id labels of the secrets a file command was given, for the event's `label`. */
export function labelsOf(secrets: Array<{ label: string }>): string | null {
  const labels = [...new Set(secrets.map((s) => s.label))];
  return labels.length ? labels.join(',') : null;
}

/** File commands (view, edit, ...) name no environment: find the one whose vault this file is. */
async function environmentOfFile(ctx: AuditEnvironment, file: string | null | undefined, options: AuditOptions): Promise<string | null> {
  if (!file) return null;
  if (!options.manifestPath && !findManifest(ctx.cwd)) return null;
  try {
    const { loadManifest } = await import('../manifest/loader.js');
    const loaded = await loadManifest({ path: options.manifestPath, cwd: ctx.cwd });
    const target = resolve(ctx.cwd, file);
    for (const name of Object.keys(loaded.manifest.environments)) {
      if (resolve(loaded.dir, loaded.manifest.environments[name]!.vault) === target) return name;
    }
  } catch {
    // no (valid) manifest: the event simply names no environment
  }
  return null;
}

/** Maps an error to the outcome recorded for it: a wrong or missing password is a denial. */
export function outcomeOf(error: unknown): { outcome: AuditOutcome; error: string } {
  const code = isVaultsmithError(error) ? error.code : 'INTERNAL';
  const denied = code === 'DECRYPT_FAILED' || code === 'PASSWORD_SOURCE';
  return { outcome: denied ? 'denied' : 'error', error: code };
}

export interface AuditNote {
  /** Adds details learnt while running (label used, secret names, environment, file). */
  set(details: Partial<Omit<AuditEventInput, 'command' | 'outcome' | 'error'>>): void;
  /** Records a failure the operation reports without throwing (e.g. a partial podman sync). */
  fail(error: unknown): void;
}

/**
 * Preflights the sinks, runs `fn`, and records ok (before the caller reveals anything) or
 * denied/error. A failure to record success refuses the operation; a failure to record a failure
 * keeps the original error.
 */
export async function withAudit<T>(
  ctx: AuditEnvironment,
  base: Omit<AuditEventInput, 'outcome' | 'error'>,
  fn: (note: AuditNote) => Promise<T>,
  options: AuditOptions = {},
): Promise<T> {
  await preflightAudit(ctx, options);
  const details: Omit<AuditEventInput, 'outcome' | 'error'> = { ...base };
  let reportedFailure: unknown = undefined;
  const note: AuditNote = {
    set(more) {
      Object.assign(details, more);
    },
    fail(error) {
      reportedFailure = error ?? new VaultsmithError('INTERNAL', 'operation failed');
    },
  };
  let result: T;
  try {
    result = await fn(note);
  } catch (e) {
    await recordAudit(ctx, { ...details, ...outcomeOf(e) }, options).catch(() => undefined);
    throw e;
  }
  await recordAudit(ctx, reportedFailure === undefined ? { ...details, outcome: 'ok' } : { ...details, ...outcomeOf(reportedFailure) }, options);
  return result;
}

export interface AuditQuery {
  env?: string;
  actor?: string;
  /** ISO time or a relative span like `24h`, `7d`. */
  since?: string;
  sink?: 'file' | 'postgres';
}

export function parseSince(since: string, now = Date.now()): number {
  const rel = /^(\d+)([smhdw])$/.exec(since.trim());
  if (rel) {
    const unit = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 604800e3 }[rel[2] as 's' | 'm' | 'h' | 'd' | 'w'];
    return now - Number(rel[1]) * unit;
  }
  const t = Date.parse(since);
  if (Number.isNaN(t)) throw new VaultsmithError('USAGE', `--since '${since}' is neither a time (2024-05-01T12:00Z) nor a span (24h, 7d)`);
  return t;
}

function pickSink(config: AuditConfig, sink?: 'file' | 'postgres'): 'file' | 'postgres' {
  if (sink === 'postgres' || (!sink && !config.file && config.postgres)) {
    if (!config.postgres) throw new VaultsmithError('AUDIT', 'no PostgreSQL audit sink is configured');
    return 'postgres';
  }
  if (!config.file) throw new VaultsmithError('AUDIT', 'no audit log file is configured', { hint: 'set VAULTSMITH_AUDIT_LOG or audit.file in vaultsmith.yaml' });
  return 'file';
}

/** Lists events (unparsable lines are skipped here; `verifyAudit` reports them). */
export async function listAuditEvents(ctx: AuditEnvironment, query: AuditQuery = {}, options: AuditOptions = {}): Promise<AuditEvent[]> {
  const config = await resolveAuditConfig(ctx, options);
  const sink = pickSink(config, query.sink);
  const raw = sink === 'file' ? await readFileEvents(config.file as string) : await readPostgresEvents(config.postgres!);
  const since = query.since ? parseSince(query.since) : null;
  return raw.filter((e): e is AuditEvent => {
    if ('unparsable' in e) return false;
    if (query.env && e.env !== query.env) return false;
    if (query.actor && e.actor?.user !== query.actor && e.actor?.git_email !== query.actor) return false;
    if (since !== null && Date.parse(e.time) < since) return false;
    return true;
  });
}

export interface AuditVerifyReport extends VerifyResult {
  sink: 'file' | 'postgres';
  location: string;
}

/** Verifies the whole chain of one sink with the audit key. */
export async function verifyAudit(ctx: AuditEnvironment, query: { sink?: 'file' | 'postgres' } = {}, options: AuditOptions = {}): Promise<AuditVerifyReport> {
  const config = await resolveAuditConfig(ctx, options);
  const sink = pickSink(config, query.sink);
  const key = await loadAuditKey(config.keyFile, { create: false });
  if (sink === 'postgres') {
    const events = await readPostgresEvents(config.postgres!);
    return { ...verifyChain(key, events), sink, location: `${config.postgres!.urlEnv} table ${config.postgres!.table}` };
  }
  const file = config.file as string;
  const events = await readFileEvents(file);
  const head = await readFileHead(file, key);
  const location = file;
  if (head === 'invalid') {
    return { ok: false, events: 0, problem: { position: 0, seq: null, reason: 'the head anchor is damaged or was not written with this key' }, sink, location };
  }
  if (head === 'missing' && events.length > 0) {
    const chain = verifyChain(key, events);
    if (!chain.ok) return { ...chain, sink, location };
    return { ok: false, events: chain.events, problem: { position: events.length + 1, seq: null, reason: 'the head anchor is missing (log may be truncated)' }, sink, location };
  }
  return { ...verifyChain(key, events, head === 'missing' ? null : head), sink, location };
}
