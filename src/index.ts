/** vaultsmith's public library API: named exports only. */
export { VaultsmithError, DecryptionFailedError, type ErrorCode } from './errors.js';
export { run } from './cli/run.js';
export { VERSION } from './version.js';
export { loadVaultSecrets, parseVaultIdSpec } from './secrets/index.js';
export { Fernet, MultiFernet, InvalidToken } from './fernet/index.js';
export { generateSecret, quoteValue, type GeneratorKind, type GeneratorSpec } from './gen/index.js';
export {
  encryptVault,
  decryptVault,
  parseVaultEnvelope,
  parseVaultHeader,
  isEncryptedVault,
  encryptVaultStream,
  decryptVaultStream,
  encryptVaultFile,
  decryptVaultFile,
  rekeyVaultFile,
  formatVaultString,
  extractVaultText,
  decryptInlineYaml,
  vaultYamlTag,
  VaultEncryptedValue,
  type VaultSecret,
  type VaultHeader,
} from './vault/index.js';
export {
  findManifest,
  loadManifest,
  parseManifest,
  openEnvironment,
  renderVariables,
  manifestJsonSchema,
  ManifestError,
  type LoadedManifest,
  type Manifest,
  type OpenEnvironment,
  type ResolvedVariable,
} from './manifest/index.js';
export { updateVaultValues } from './store/index.js';
export {
  syncPodmanSecrets,
  planPodmanSync,
  executePodmanSync,
  deriveDeliveryKeys,
  PodmanCliBackend,
  PodmanApiBackend,
  type DesiredPodmanSecret,
  type PodmanSecretBackend,
  type SyncReport,
} from './deliver/podman/index.js';
export { renderQuadletDropIn, quadletSecretLine, type PodmanSecretBinding } from './deliver/quadlet.js';
export { recordAudit, preflightAudit, withAudit, listAuditEvents, verifyAudit, postgresAuditSchemaSql, type AuditEvent, type AuditEventInput, type AuditOutcome } from './audit/index.js';
export { SecretMatcher, encodedVariants, type SecretPattern } from './scan/matcher.js';
export { scanProject, type ScanReport, type ScanFinding } from './services/scan.js';
export { mergeVaultYaml, findConflictMarkers } from './git/yaml-merge.js';
export { scramSha256Verifier, startRotation, resumeRotation, abortRotation, recordSecretChanges, setupAlternatingRoles, type RotationResult, type RotationSpec } from './rotate/index.js';
export { rotateSecrets, type RotateRequest, type RotateOutcome } from './services/rotate.js';
export { secretStatuses, renderPrometheus, type SecretStatus } from './services/status.js';
