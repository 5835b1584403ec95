import { VaultsmithError } from '../../errors.js';
import type { ResolvedVariable } from '../../manifest/resolve.js';
import type { DesiredPodmanSecret } from './types.js';

/** Informational labels (not ownership): which variables a secret carries, for `podman secret inspect`. */
export const LABEL_VARIABLES = 'vaultsmith.variables';
export const LABEL_PROJECT = 'vaultsmith.project';

/**
 * The Podman secrets an environment's resolved variables call for. Several variables may share one
 * Podman secret (e.g. an env var for one service, a file for another) only if their values agree.
 */
export function podmanSecretsFromVariables(variables: ResolvedVariable[], project: string): DesiredPodmanSecret[] {
  const bySecret = new Map<string, { value: string; variables: string[] }>();
  for (const variable of variables) {
    if (!variable.podman) continue;
    const name = variable.podman.secret;
    const seen = bySecret.get(name);
    if (!seen) {
      bySecret.set(name, { value: variable.value, variables: [variable.name] });
      continue;
    }
    if (seen.value !== variable.value) {
      throw new VaultsmithError(
        'MANIFEST',
        `variables ${seen.variables.join(', ')} and ${variable.name} share podman secret '${name}' but resolve to different values`,
        { hint: 'give each value its own podman secret name' },
      );
    }
    seen.variables.push(variable.name);
  }
  return [...bySecret].map(([name, { value, variables }]) => ({
    name,
    value,
    labels: { [LABEL_PROJECT]: project, [LABEL_VARIABLES]: variables.join(',') },
  }));
}
