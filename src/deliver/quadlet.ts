/**
 * Quadlet `Secret=` lines for a service, written as a systemd drop-in next to the hand-written unit
 * (`<unit>.container.d/50-vaultsmith-secrets.conf`) so the unit file itself is never rewritten.
 * Pure rendering; the service layer writes the file with safeWrite. No values appear here: a drop-in
 * only names Podman secrets, which `vaultsmith podman sync` fills.
 */
import { join } from 'node:path';
import { VaultsmithError } from '../errors.js';

export const QUADLET_DROP_IN_NAME = '50-vaultsmith-secrets.conf';

/** How one Podman secret reaches a container: as an environment variable or a mounted file. */
export interface PodmanSecretBinding {
  secret: string;
  type: 'env' | 'mount';
  /** Variable name (env) or path in the container (mount; relative paths land under /run/secrets). */
  target: string;
}

/** File mode of mounted secrets: readable by the container's user only. */
export const MOUNTED_SECRET_MODE = '0400';

const SECRET_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const ENV_TARGET = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkBinding(binding: PodmanSecretBinding): void {
  if (!SECRET_NAME.test(binding.secret)) {
    throw new VaultsmithError('MANIFEST', `invalid podman secret name '${binding.secret}'`);
  }
  // Commas separate --secret options and newlines end the ini line: neither can be in a target.
  const badTarget = binding.type === 'env' ? !ENV_TARGET.test(binding.target) : !/^[^\s,=]+$/.test(binding.target);
  if (badTarget) {
    throw new VaultsmithError('MANIFEST', `invalid ${binding.type} target '${binding.target}' for podman secret '${binding.secret}'`, {
      hint: binding.type === 'env' ? 'an environment variable name' : 'a path without spaces, commas or =',
    });
  }
}

/** `Secret=db_password,type=env,target=DB_PASSWORD` or `Secret=tls_key,type=mount,target=/run/secrets/tls.key,mode=0400`. */
export function quadletSecretLine(binding: PodmanSecretBinding): string {
  checkBinding(binding);
  const mode = binding.type === 'mount' ? `,mode=${MOUNTED_SECRET_MODE}` : '';
  return `Secret=${binding.secret},type=${binding.type},target=${binding.target}${mode}`;
}

/** The `Secret=` lines for a set of bindings: duplicates collapsed, order kept. */
export function quadletSecretLines(bindings: PodmanSecretBinding[]): string[] {
  const lines: string[] = [];
  const targets = new Map<string, string>();
  for (const binding of bindings) {
    const line = quadletSecretLine(binding);
    if (lines.includes(line)) continue;
    const key = `${binding.type}:${binding.target}`;
    const other = targets.get(key);
    if (other !== undefined) {
      throw new VaultsmithError('MANIFEST', `podman secrets '${other}' and '${binding.secret}' both target ${binding.type} ${binding.target}`);
    }
    targets.set(key, binding.secret);
    lines.push(line);
  }
  return lines;
}

export interface QuadletDropInInput {
  /** The unit file name, e.g. `django.container`. */
  unit: string;
  environment: string;
  service: string;
  bindings: PodmanSecretBinding[];
}

/** Quadlet's `Secret=` key belongs to `[Container]`, so only `.container` units can take one. */
export function checkContainerUnit(unit: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.@-]*\.container$/.test(unit)) {
    throw new VaultsmithError('MANIFEST', `'${unit}' is not a Quadlet .container unit name`, {
      hint: "set services.<name>.unit to the unit file's name, e.g. django.container",
    });
  }
}

export function renderQuadletDropIn(input: QuadletDropInInput): string {
  checkContainerUnit(input.unit);
  const lines = quadletSecretLines(input.bindings);
  return [
    `# Written by 'vaultsmith podman quadlet ${input.environment} --service ${input.service}'; do not edit.`,
    `# The secrets themselves come from 'vaultsmith podman sync ${input.environment}'.`,
    '[Container]',
    ...lines,
    '',
  ].join('\n');
}

/** `<dir>/<unit>.d/50-vaultsmith-secrets.conf`. */
export function quadletDropInPath(dir: string, unit: string): string {
  checkContainerUnit(unit);
  return join(dir, `${unit}.d`, QUADLET_DROP_IN_NAME);
}
