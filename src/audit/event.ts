import { createHmac, timingSafeEqual } from 'node:crypto';

/** What happened to the operation an event describes. */
export type AuditOutcome = 'ok' | 'denied' | 'error';

export interface AuditActor {
  /** OS user name. */
  user: string;
  uid: number | null;
  host: string;
  /** `git config user.email` where the command ran, when set. */
  git_email: string | null;
}

/** What a command reports; never a secret value, only names. */
export interface AuditEventInput {
  command: string;
  env?: string | null;
  file?: string | null;
  /** The vault-id label used (or tried). */
  label?: string | null;
  /** Names of the secrets read or changed. */
  secrets?: string[];
  outcome: AuditOutcome;
  /** Error code (e.g. DECRYPT_FAILED) when the outcome is not ok; never the message. */
  error?: string | null;
}

/** One recorded event: the input plus who/when, its place in the chain and its MAC. */
export interface AuditEvent {
  v: 1;
  seq: number;
  time: string;
  actor: AuditActor;
  command: string;
  env: string | null;
  file: string | null;
  label: string | null;
  secrets: string[];
  outcome: AuditOutcome;
  error: string | null;
  version: string;
  /** The MAC of the previous event (GENESIS for the first), which chains the events. */
  prev: string;
  /** HMAC-SHA256 over every other field, keyed with the audit key. */
  mac: string;
}

export const GENESIS = '0'.repeat(64);

/** JSON with keys sorted at every level, so the MAC input does not depend on key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function computeMac(key: Buffer, event: Omit<AuditEvent, 'mac'> | AuditEvent): string {
  const { mac: _ignored, ...rest } = event as AuditEvent;
  return createHmac('sha256', key).update('vaultsmith-audit-v1\n').update(canonicalJson(rest)).digest('hex');
}

export function macMatches(key: Buffer, event: AuditEvent): boolean {
  if (typeof event.mac !== 'string' || !/^[0-9a-f]{64}$/.test(event.mac)) return false;
  return timingSafeEqual(Buffer.from(computeMac(key, event), 'hex'), Buffer.from(event.mac, 'hex'));
}

/** Builds the next event of a chain whose last event had `prevSeq`/`prevMac`. */
export function sealEvent(
  key: Buffer,
  body: Omit<AuditEvent, 'v' | 'seq' | 'prev' | 'mac'>,
  prevSeq: number,
  prevMac: string,
): AuditEvent {
  const unsealed = { v: 1 as const, seq: prevSeq + 1, ...body, prev: prevMac };
  return { ...unsealed, mac: computeMac(key, unsealed) };
}

export interface ChainProblem {
  /** 1-based position in the log (line number for the file sink, row for PostgreSQL). */
  position: number;
  seq: number | null;
  reason: string;
}

export interface ChainHead {
  seq: number;
  mac: string;
}

export interface VerifyResult {
  ok: boolean;
  events: number;
  /** The first broken event; verification stops there because everything after depends on it. */
  problem: ChainProblem | null;
}

/**
 * Checks MACs, sequence numbers and links. An edited event fails its MAC; an inserted one fails its MAC
 * (no key) or breaks the link; a deleted one breaks the link/sequence of its successor; a truncated tail
 * is caught by comparing with the separately kept head anchor.
 */
export function verifyChain(key: Buffer, events: Array<AuditEvent | { unparsable: string }>, head?: ChainHead | null): VerifyResult {
  let prevSeq = 0;
  let prevMac = GENESIS;
  let position = 0;
  for (const item of events) {
    position += 1;
    if ('unparsable' in item) {
      return { ok: false, events: position - 1, problem: { position, seq: null, reason: item.unparsable } };
    }
    const event = item;
    const seq = typeof event.seq === 'number' ? event.seq : null;
    if (!macMatches(key, event)) {
      return { ok: false, events: position - 1, problem: { position, seq, reason: 'MAC mismatch (event edited, inserted or signed with another key)' } };
    }
    if (event.seq !== prevSeq + 1) {
      return {
        ok: false,
        events: position - 1,
        problem: { position, seq, reason: `sequence jumps from ${prevSeq} to ${event.seq} (event deleted or reordered)` },
      };
    }
    if (event.prev !== prevMac) {
      return { ok: false, events: position - 1, problem: { position, seq, reason: 'link to the previous event is broken (event deleted or reordered)' } };
    }
    prevSeq = event.seq;
    prevMac = event.mac;
  }
  if (head && (head.seq !== prevSeq || head.mac !== prevMac)) {
    const reason =
      head.seq > prevSeq
        ? `log truncated: the head anchor records event ${head.seq} but the log ends at ${prevSeq}`
        : `the head anchor (event ${head.seq}) does not match the last event ${prevSeq}`;
    return { ok: false, events: position, problem: { position: position + 1, seq: head.seq, reason } };
  }
  return { ok: true, events: position, problem: null };
}
