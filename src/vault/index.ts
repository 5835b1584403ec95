/** Ansible Vault 1.1/1.2 core: byte-compatible codec, streaming, inline YAML values. See docs/FORMAT.md. */
export { encryptVault, encryptVaultBytes, decryptVault, type EncryptVaultOptions, type DecryptVaultOptions, type DecryptedVault } from './codec.js';
export {
  parseVaultEnvelope,
  parseVaultHeader,
  formatVaultHeader,
  formatVaultEnvelope,
  isEncryptedVault,
  VAULT_MAGIC,
  DEFAULT_VAULT_LABEL,
  type VaultEnvelope,
} from './format.js';
export {
  formatVaultString,
  extractVaultText,
  decryptInlineYaml,
  vaultYamlTag,
  VaultEncryptedValue,
} from './inline.js';
export type { VaultSecret, VaultHeader } from './types.js';
export { encryptVaultStream, decryptVaultStream, encryptVaultFile, decryptVaultFile, rekeyVaultFile, type StreamDecryptOptions } from './stream.js';
