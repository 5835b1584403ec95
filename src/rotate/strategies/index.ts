import { VaultsmithError } from '../../errors.js';
import type { RotationStrategy, RotationStrategyName } from '../types.js';
import { djangoSecretKeyStrategy, fernetStrategy } from './app-keys.js';
import { commandStrategy, manualStrategy } from './command.js';
import { postgresAlternatingStrategy, postgresStrategy } from './postgres.js';
import { redisStrategy } from './redis.js';

const STRATEGIES: Record<RotationStrategyName, RotationStrategy> = {
  postgres: postgresStrategy,
  'postgres-alternating': postgresAlternatingStrategy,
  redis: redisStrategy,
  'django-secret-key': djangoSecretKeyStrategy,
  fernet: fernetStrategy,
  command: commandStrategy,
  manual: manualStrategy,
};

export function getStrategy(name: string): RotationStrategy {
  const strategy = STRATEGIES[name as RotationStrategyName];
  if (!strategy) throw new VaultsmithError('MANIFEST', `unknown rotation strategy '${name}'`, { hint: `one of ${Object.keys(STRATEGIES).join(', ')}` });
  return strategy;
}
