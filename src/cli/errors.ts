import type { ErrorCode } from '../errors.js';

/** The single table of exit codes. 0 is success; 1 is ansible-vault's generic failure code. */
export const EXIT_CODES: Record<ErrorCode, number> = {
  USAGE: 2,
  INPUT: 1,
  VAULT_FORMAT: 1,
  DECRYPT_FAILED: 1,
  ALREADY_ENCRYPTED: 1,
  NOT_ENCRYPTED: 1,
  PASSWORD_SOURCE: 1,
  MANIFEST: 3,
  CHECK_FAILED: 4,
  IO: 1,
  CONFLICT: 5,
  EXTERNAL: 6,
  INVALID_TOKEN: 1,
  AUDIT: 7,
  INTERNAL: 70,
};
