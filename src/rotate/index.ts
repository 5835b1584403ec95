/** Rotation against the real services: engine, strategies, SCRAM verifier, history. */
export { scramSha256Verifier, isScramVerifier, SCRAM_ITERATIONS, SCRAM_SALT_BYTES } from './scram.js';
export {
  startRotation,
  resumeRotation,
  abortRotation,
  pendingRotations,
  PENDING_KEY,
  PREVIOUS_KEY,
  FAULT_ENV,
  FAULT_POINTS,
  type RotationTarget,
  type RotationVault,
  type RotationResult,
  type RotationStatus,
} from './engine.js';
export { getStrategy } from './strategies/index.js';
export { setupAlternatingRoles, setRoleVerifier, pgCanLogin } from './strategies/postgres.js';
export { redisPasswordHash, redisCanLogin } from './strategies/redis.js';
export { recordSecretChanges, readHistory, historyPath, type ChangeKind, type History } from './history.js';
export { parseDuration, formatAge } from './duration.js';
export { PHASES, ROTATION_STRATEGIES, type Phase, type RotationSpec, type RotationStrategy, type RotationStrategyName, type StrategyContext } from './types.js';
