/**
 * A decrypted vault as an editable YAML document: read, modify keeping comments, key order and
 * formatting (the yaml package's Document API), re-encrypt with the same label, write atomically
 * under an advisory lock. Plaintext exists only in memory.
 */
import { parseDocument, type Document } from 'yaml';
import { VaultsmithError } from '../errors.js';
import { withFileLock } from '../internal/file-lock.js';
import { readFileOrThrow, safeWrite } from '../internal/safe-write.js';
import { decryptVault, encryptVault, vaultYamlTag } from '../vault/index.js';
import type { VaultSecret } from '../vault/types.js';

/** Parses vault plaintext as a YAML document; refuses anything that is not a mapping. */
export function parseVaultDocument(text: string, source: string): Document {
  const doc = parseDocument(text, { customTags: [vaultYamlTag], keepSourceTokens: false });
  if (doc.errors.length) {
    throw new VaultsmithError('INPUT', `the decrypted content of ${source} is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  }
  const js: unknown = doc.toJS();
  if (js !== null && js !== undefined && (typeof js !== 'object' || Array.isArray(js))) {
    throw new VaultsmithError('INPUT', `the decrypted content of ${source} is not a YAML mapping of keys to values`);
  }
  return doc;
}

/** Serialises a document back to text, as the yaml package prints it (comments and order kept). */
export function stringifyVaultDocument(doc: Document): string {
  return doc.toString({ lineWidth: 0 });
}

/**
 * Decrypts `vaultPath`, lets `mutate` edit the YAML document, re-encrypts with `label` and the secret
 * that opened it, and replaces the file atomically (mode and owner kept). Holds the file's lock
 * throughout, so concurrent edits fail with CONFLICT instead of losing one another's changes.
 * If `mutate` throws, nothing is written. An edit that changes nothing leaves the file untouched.
 */
export async function updateVaultValues(
  vaultPath: string,
  secrets: VaultSecret[],
  label: string,
  mutate: (doc: Document) => void | Promise<void>,
): Promise<void> {
  await withFileLock(vaultPath, async () => {
    const vaultText = await readFileOrThrow(vaultPath);
    const { plaintext, secret } = await decryptVault(vaultText, secrets, { source: vaultPath });
    try {
      const before = plaintext.toString('utf8');
      const doc = parseVaultDocument(before, vaultPath);
      await mutate(doc);
      const after = stringifyVaultDocument(doc);
      if (after === before) return;
      const encrypted = await encryptVault(after, secret, { label });
      await safeWrite(vaultPath, encrypted);
    } finally {
      plaintext.fill(0);
    }
  });
}

/** Encrypts YAML text into a new vault file; never replaces an existing file. */
export async function createVaultFile(vaultPath: string, yamlText: string, secret: VaultSecret, label: string): Promise<void> {
  const encrypted = await encryptVault(yamlText, secret, { label });
  await safeWrite(vaultPath, encrypted, { mode: 0o600, exclusive: true });
}

/** Reads and decrypts a vault into a document (read-only use: `get`, `check`). */
export async function readVaultDocument(vaultPath: string, secrets: VaultSecret[]): Promise<Document> {
  const vaultText = await readFileOrThrow(vaultPath);
  const { plaintext } = await decryptVault(vaultText, secrets, { source: vaultPath });
  try {
    return parseVaultDocument(plaintext.toString('utf8'), vaultPath);
  } finally {
    plaintext.fill(0);
  }
}
