/** Delivery of secrets to Podman: plan, sync, and the CLI / REST API backends. */
export type {
  CreateSecretOptions,
  DesiredPodmanSecret,
  EntryStatus,
  ExistingPodmanSecret,
  PlanEntry,
  PodmanSecretBackend,
  ResultEntry,
  SyncAction,
  SyncReport,
} from './types.js';
export {
  type DeliveryKeys,
  LABEL_ENV,
  LABEL_FINGERPRINT,
  LABEL_MANAGED,
  LABEL_SEALED,
  LABEL_STAGING_FOR,
  SEAL_MAX_BYTES,
  deliveryKeysFromSecret,
  deriveDeliveryKeys,
  fingerprintValue,
  isManaged,
} from './labels.js';
export { type PlannedSync, type PlanOptions, planPodmanSync, stagingName, summarize, PODMAN_SECRET_NAME } from './plan.js';
export {
  type ExecuteOptions,
  type SyncOutcome,
  RestoredError,
  executePodmanSync,
  syncPodmanSecrets,
  wipePlannedData,
} from './sync.js';
export { PodmanCliBackend, type PodmanCliOptions, parseInspectOutput } from './cli.js';
export { PodmanApiBackend, parsePodmanSocketUrl } from './api.js';

export { LABEL_PROJECT, LABEL_VARIABLES, podmanSecretsFromVariables } from './contract.js';
