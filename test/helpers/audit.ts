// The audit trail in tests: a private HOME and XDG directories (the default log and key live there),
// and the log read back as events.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent } from '../../src/audit/index.js';

export interface AuditSandbox {
  dir: string;
  /** PATH, plus HOME, XDG_STATE_HOME and XDG_CONFIG_HOME inside `dir`. */
  env: NodeJS.ProcessEnv & { HOME: string; XDG_STATE_HOME: string; XDG_CONFIG_HOME: string };
  /** Where the file sink writes by default under `env`. */
  log: string;
  cleanup(): void;
}

export function auditSandbox(prefix: string): AuditSandbox {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const env = {
    PATH: process.env.PATH,
    HOME: join(dir, 'home'),
    XDG_STATE_HOME: join(dir, 'state'),
    XDG_CONFIG_HOME: join(dir, 'config'),
  };
  return { dir, env, log: auditLogIn(env), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The default audit log for an environment with XDG_STATE_HOME set. */
export function auditLogIn(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_STATE_HOME!, 'vaultsmith', 'audit.jsonl');
}

/** Every line of a JSON-lines audit log, parsed. */
export function readAuditLog(log: string): AuditEvent[] {
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AuditEvent);
}
