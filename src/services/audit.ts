import { locateEnvironment, type LoadedManifest } from '../manifest/index.js';
import {
  listAuditEvents,
  resolveAuditConfig,
  verifyAudit,
  type AuditEnvironment,
  type AuditEvent,
  type AuditQuery,
  type AuditVerifyReport,
} from '../audit/index.js';

/** `vaultsmith audit`: the filtered list of events, oldest first. */
export function listAudit(ctx: AuditEnvironment, query: AuditQuery, manifestPath?: string): Promise<AuditEvent[]> {
  return listAuditEvents(ctx, query, manifestPath ? { manifestPath } : {});
}

/** `vaultsmith audit verify`: the chain check of the given sink, or of every configured one. */
export async function verifyAuditTrail(ctx: AuditEnvironment, sink: 'file' | 'postgres' | undefined, manifestPath?: string): Promise<AuditVerifyReport[]> {
  const options = manifestPath ? { manifestPath } : {};
  if (sink) return [await verifyAudit(ctx, { sink }, options)];
  const config = await resolveAuditConfig(ctx, options);
  const sinks: Array<'file' | 'postgres'> = [];
  if (config.file) sinks.push('file');
  if (config.postgres) sinks.push('postgres');
  if (sinks.length === 0) return [await verifyAudit(ctx, {}, options)]; // raises the "not configured" error
  const reports: AuditVerifyReport[] = [];
  for (const s of sinks) reports.push(await verifyAudit(ctx, { sink: s }, options));
  return reports;
}

/** Where the verdict points a human: the first broken event by seq and by position. */
export function describeBreak(report: AuditVerifyReport): string {
  const p = report.problem;
  if (!p) return '';
  const unit = report.sink === 'file' ? 'line' : 'row';
  const at = p.seq !== null ? `event ${p.seq} (${unit} ${p.position})` : `${unit} ${p.position}`;
  return `audit chain broken at ${at} of ${report.location}: ${p.reason}`;
}

/**
 * The env, vault file (as the manifest names it) and vault-id label of an environment command's
 * event. An unknown environment yields just its name: the command itself reports that error.
 */
export function environmentAuditDetails(loaded: LoadedManifest, envName: string, env: NodeJS.ProcessEnv): { env: string; file?: string; label?: string } {
  try {
    const location = locateEnvironment(loaded, envName, env);
    return { env: envName, file: loaded.manifest.environments[envName]!.vault, label: location.label };
  } catch {
    return { env: envName };
  }
}
