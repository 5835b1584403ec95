/** A password that can open vaults, with the vault-id label it was given (`default` when none). */
export interface VaultSecret {
  label: string;
  password: Buffer;
  /** Where the password came from (file path, `prompt`, script), for messages. Never the password. */
  source?: string;
}

/** The first line of a vault file: `$ANSIBLE_VAULT;1.2;AES256;label`. See docs/FORMAT.md. */
export interface VaultHeader {
  version: '1.1' | '1.2';
  cipher: 'AES256';
  /** The vault-id label from a 1.2 header; null for 1.1. */
  label: string | null;
}
