/**
 * One error type for the whole toolkit. `code` is a closed union so the CLI can map every error to
 * an exit code in one table (src/cli/errors.ts). Messages never contain secret values.
 */
export type ErrorCode =
  | 'USAGE' // bad command line
  | 'INPUT' // bad input data that is not a vault (missing file, bad YAML, bad value)
  | 'VAULT_FORMAT' // malformed vault envelope / header
  | 'DECRYPT_FAILED' // no secret could decrypt (wrong password, HMAC mismatch)
  | 'ALREADY_ENCRYPTED'
  | 'NOT_ENCRYPTED'
  | 'PASSWORD_SOURCE' // vault password could not be obtained
  | 'MANIFEST' // invalid vaultsmith.yaml
  | 'CHECK_FAILED' // a check found problems
  | 'IO' // filesystem failure
  | 'CONFLICT' // concurrent modification, lock held, pending rotation
  | 'EXTERNAL' // an external tool or service failed (podman, postgres, redis, editor)
  | 'INVALID_TOKEN' // Fernet
  | 'AUDIT' // audit sink failure (fail closed)
  | 'INTERNAL';

export interface ErrorOptions {
  hint?: string;
  cause?: unknown;
}

export class VaultsmithError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VaultsmithError';
    this.code = code;
    this.hint = options.hint;
  }
}

/** Raised when no vault secret could decrypt; lists every secret label tried (never a password). */
export class DecryptionFailedError extends VaultsmithError {
  readonly triedLabels: string[];
  readonly fileLabel: string | null;
  readonly source: string | undefined;
  constructor(triedLabels: string[], fileLabel: string | null, source?: string, options: ErrorOptions = {}) {
    const tried = triedLabels.length ? triedLabels.join(', ') : '(none)';
    const on = source ? ` on ${source}` : '';
    super(
      'DECRYPT_FAILED',
      `Decryption failed (no vault secrets were found that could decrypt)${on}; ` +
        `tried vault ids: ${tried}; file vault id: ${fileLabel ?? 'default (none in header)'}`,
      options,
    );
    this.name = 'DecryptionFailedError';
    this.triedLabels = triedLabels;
    this.fileLabel = fileLabel;
    this.source = source;
  }
}

export function isVaultsmithError(e: unknown): e is VaultsmithError {
  return e instanceof VaultsmithError;
}
