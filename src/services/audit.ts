import { listAuditEvents, verifyAudit, type AuditEnvironment, type AuditEvent, type AuditQuery, type AuditVerifyReport } from '../audit/index.js';

/** `vaultsmith audit`: the filtered list of events, oldest first. */
export function listAudit(ctx: AuditEnvironment, query: AuditQuery, manifestPath?: string): Promise<AuditEvent[]> {
  return listAuditEvents(ctx, query, manifestPath ? { manifestPath } : {});
}

/** `vaultsmith audit verify`: the chain check of one sink. */
export function verifyAuditTrail(ctx: AuditEnvironment, sink: 'file' | 'postgres' | undefined, manifestPath?: string): Promise<AuditVerifyReport> {
  return verifyAudit(ctx, sink ? { sink } : {}, manifestPath ? { manifestPath } : {});
}

/** Where the verdict points a human: the first broken event by seq and by position. */
export function describeBreak(report: AuditVerifyReport): string {
  const p = report.problem;
  if (!p) return '';
  const unit = report.sink === 'file' ? 'line' : 'row';
  const at = p.seq !== null ? `event ${p.seq} (${unit} ${p.position})` : `${unit} ${p.position}`;
  return `audit chain broken at ${at} of ${report.location}: ${p.reason}`;
}
