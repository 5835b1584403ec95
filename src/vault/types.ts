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
  /**
   * The vault-id label (4th header field, unauthenticated); null when absent or empty. Written only
   * in 1.2 headers; like Ansible, a 4th field is read even from a 1.1 header. See docs/FORMAT.md.
   */
  label: string | null;
}
