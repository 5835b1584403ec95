/** vaultsmith's public library API: named exports only. */
export { VaultsmithError, DecryptionFailedError, type ErrorCode } from './errors.js';
export { run } from './cli/run.js';
export { VERSION } from './version.js';
