import { VaultsmithError } from '../errors.js';

/** The label Ansible uses when a vault id has none (`ANSIBLE_VAULT_IDENTITY` can rename it). */
export const DEFAULT_VAULT_LABEL = 'default';

/** Sources that mean "ask on the terminal" rather than "read this file". */
export const PROMPT_SOURCES = ['prompt', 'prompt_ask_vault_pass'] as const;

export interface VaultIdSpec {
  label: string;
  source: string;
}

/**
 * Splits `label@source` at the first `@` as Ansible does (`CLI.split_vault_id`): a bare `source` and
 * `@source` both get the default label. `;` is refused because it separates header fields.
 */
export function parseVaultIdSpec(spec: string, defaultLabel: string = DEFAULT_VAULT_LABEL): VaultIdSpec {
  if (spec.includes(';')) {
    throw new VaultsmithError(
      'USAGE',
      `'${spec}' is not a valid vault id. The character ';' is not allowed in vault ids`,
    );
  }
  const at = spec.indexOf('@');
  if (at === -1) return { label: defaultLabel, source: spec };
  const label = spec.slice(0, at);
  const source = spec.slice(at + 1);
  if (source === '') throw new VaultsmithError('USAGE', `'${spec}' is not a valid vault id: the source after '@' is empty`);
  return { label: label === '' ? defaultLabel : label, source };
}

export function isPromptSource(source: string): boolean {
  return (PROMPT_SOURCES as readonly string[]).includes(source);
}

/** Ansible's comma-separated list settings (`ANSIBLE_VAULT_IDENTITY_LIST`). */
export function splitListSetting(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
