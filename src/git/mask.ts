import { createHmac } from 'node:crypto';
import YAML, { isMap, isSeq, Scalar } from 'yaml';
import { vaultYamlTag, VaultEncryptedValue } from '../vault/index.js';

/**
 * Masks the values of decrypted vault YAML for `git diff`: each value becomes a short keyed
 * fingerprint, so a diff shows which keys changed without showing any value. The fingerprint is an
 * HMAC keyed with the vault password: without it, the fingerprint of a low-entropy value cannot be
 * brute-forced offline from a pasted diff.
 */
export function fingerprint(key: Uint8Array, value: string): string {
  return createHmac('sha256', key).update('vaultsmith-diff-mask\n').update(value).digest('hex').slice(0, 12);
}

function masked(key: Uint8Array, value: string): string {
  return `<masked ${fingerprint(key, value)}>`;
}

/** Keys stay, comments stay, every scalar value is replaced by its fingerprint. */
export function maskVaultYaml(plaintext: string, key: Uint8Array): string {
  const doc = YAML.parseDocument(plaintext, { customTags: [vaultYamlTag], logLevel: 'error' });
  if (doc.errors.length || (doc.contents !== null && !isMap(doc.contents) && !isSeq(doc.contents))) return maskLines(plaintext, key);
  YAML.visit(doc, {
    Scalar(k, node) {
      if (k === 'key') return undefined;
      // Mutated in place: a returned replacement node would be visited again, endlessly.
      const raw = node.value instanceof VaultEncryptedValue ? node.value.vaultText : String(node.value);
      node.value = masked(key, raw);
      node.tag = undefined;
      node.type = Scalar.PLAIN;
      return undefined;
    },
  });
  return doc.toString();
}

/**
 * Fallback for text that is not YAML (e.g. a vault holding merge conflict markers): keeps markers,
 * comments and `key:` prefixes, masks everything else line by line.
 */
export function maskLines(plaintext: string, key: Uint8Array): string {
  return plaintext
    .split('\n')
    .map((line) => {
      const trimmed = line.trim();
      if (trimmed === '' || trimmed.startsWith('#') || /^(<{7}|={7}|>{7}|\|{7})( |$)/.test(line) || trimmed === '---') return line;
      const kv = /^(\s*(?:- )?[A-Za-z0-9_.-]+:)(\s+)(.*)$/.exec(line);
      if (kv) return kv[3] === '' || kv[3] === '|' || kv[3] === '>' ? line : `${kv[1]}${kv[2]}${masked(key, kv[3]!)}`;
      if (/^\s*[A-Za-z0-9_.-]+:$/.test(line)) return line;
      const indent = /^\s*/.exec(line)![0];
      return `${indent}${masked(key, trimmed)}`;
    })
    .join('\n');
}
