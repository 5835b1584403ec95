/**
 * Inline vault values in YAML (`key: !vault |` blocks, as `ansible-vault encrypt_string` prints).
 * See docs/FORMAT.md, "Inline values".
 */
import { isPair, isScalar, parse, parseDocument, Scalar, visit, type ScalarTag } from 'yaml';
import { stringifyString } from 'yaml/util';
import { VaultsmithError } from '../errors.js';
import { decryptVault } from './codec.js';
import { printable, VAULT_MAGIC } from './format.js';
import type { VaultSecret } from './types.js';

/** Ansible's encrypt_string indents the vault text by 10 spaces (format_ciphertext_yaml). */
const ENCRYPT_STRING_INDENT = ' '.repeat(10);

/** The value of a `!vault` scalar: the vault text, never decrypted implicitly. */
export class VaultEncryptedValue {
  constructor(readonly vaultText: string) {}
  /** Deliberately not the plaintext: accidental string conversion must not leak or mislead. */
  toString(): string {
    return '[vault encrypted value]';
  }
  toJSON(): string {
    return this.toString();
  }
}

/**
 * A `yaml` custom tag so any module can parse and write documents with inline vault values:
 * `parseDocument(text, { customTags: [vaultYamlTag] })`. Values become VaultEncryptedValue and are
 * written back as `!vault |` block literals.
 */
export const vaultYamlTag: ScalarTag = {
  tag: '!vault',
  identify: (value) => value instanceof VaultEncryptedValue,
  resolve: (text) => new VaultEncryptedValue(text),
  stringify(item, ctx, onComment, onChompKeep) {
    const value = item.value instanceof VaultEncryptedValue ? item.value.vaultText : String(item.value);
    return stringifyString({ value, type: Scalar.BLOCK_LITERAL }, ctx, onComment, onChompKeep);
  },
};

/**
 * Exactly the shape `ansible-vault encrypt_string` prints: `[name: ]!vault |` then each vault line
 * indented by 10 spaces, lines joined by "\n" and no newline after the last one.
 */
export function formatVaultString(vaultText: string, options: { name?: string } = {}): string {
  const head = `${options.name ? `${options.name}: ` : ''}!vault |`;
  const lines = vaultText.split(/\r\n|\r|\n/).filter((line, i, all) => !(i === all.length - 1 && line === ''));
  return [head, ...lines.map((line) => `${ENCRYPT_STRING_INDENT}${line}`)].join('\n');
}

function dedent(lines: string[]): string[] {
  const indents = lines.filter((l) => l.trim() !== '').map((l) => /^[ \t]*/.exec(l)![0].length);
  const common = indents.length ? Math.min(...indents) : 0;
  return lines.map((l) => l.slice(common));
}

/**
 * Finds the vault text in what a user pasted: a `!vault |` block with or without a `name:` key, or
 * bare (possibly indented) vault text. Returns it with one trailing newline.
 */
export function extractVaultText(input: string): string {
  if (/!vault\b/.test(input)) {
    const doc = parseDocument(input, { customTags: [vaultYamlTag] });
    if (doc.errors.length) {
      throw new VaultsmithError('INPUT', `cannot parse the !vault block: ${doc.errors[0]!.message.split('\n')[0]}`);
    }
    const found: VaultEncryptedValue[] = [];
    visit(doc, {
      Scalar(_key, node) {
        if (node.value instanceof VaultEncryptedValue) found.push(node.value);
      },
    });
    if (found.length !== 1) {
      throw new VaultsmithError('INPUT', `expected exactly one !vault value, found ${found.length}`);
    }
    return normalizeVaultText(found[0]!.vaultText);
  }
  return normalizeVaultText(input);
}

function normalizeVaultText(text: string): string {
  const lines = dedent(text.split(/\r\n|\r|\n/)).map((l) => l.replace(/[ \t]+$/, ''));
  while (lines.length && lines[0] === '') lines.shift();
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  const joined = `${lines.join('\n')}\n`;
  if (!joined.startsWith(VAULT_MAGIC)) {
    throw new VaultsmithError('NOT_ENCRYPTED', `input is not vault encrypted data (expected ${VAULT_MAGIC} or a !vault block)`);
  }
  return joined;
}

/** Dotted key path of a node, for messages (keys only, never values). */
function pathName(path: readonly unknown[]): string {
  const keys = path.filter(isPair).map((pair) => printable(String(isScalar(pair.key) ? pair.key.value : pair.key), 80));
  return keys.length ? keys.join('.') : '(top level)';
}

/**
 * Returns the YAML with every `!vault` value replaced by its plaintext (comments and order kept).
 * Plaintext that is not UTF-8 is written as `!!binary` base64. Fails as a whole, naming the key, if
 * any value cannot be decrypted.
 */
export async function decryptInlineYaml(yamlText: string, secrets: VaultSecret[]): Promise<string> {
  const doc = parseDocument(yamlText, { customTags: [vaultYamlTag], keepSourceTokens: false });
  if (doc.errors.length) {
    throw new VaultsmithError('INPUT', `cannot parse YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  }
  const jobs: Promise<void>[] = [];
  visit(doc, {
    Pair(_key, pair, path) {
      if (isScalar(pair.key) && isScalar(pair.value) && pair.value.value instanceof VaultEncryptedValue) {
        const node = pair.value;
        jobs.push(decryptNode(node, secrets, `value of ${pathName([...path, pair])}`));
      }
    },
    Seq(_key, seq, path) {
      seq.items.forEach((item, index) => {
        if (isScalar(item) && item.value instanceof VaultEncryptedValue) {
          jobs.push(decryptNode(item, secrets, `item ${index} of ${pathName([...path, seq])}`));
        }
      });
    },
  });
  if (isScalar(doc.contents) && doc.contents.value instanceof VaultEncryptedValue) {
    jobs.push(decryptNode(doc.contents, secrets, 'the document'));
  }
  const results = await Promise.allSettled(jobs);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return doc.toString();
}

async function decryptNode(node: Scalar, secrets: VaultSecret[], source: string): Promise<void> {
  const { plaintext } = await decryptVault((node.value as VaultEncryptedValue).vaultText, secrets, { source });
  const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  try {
    node.value = text.decode(plaintext);
    node.tag = undefined;
  } catch {
    node.value = plaintext.toString('base64');
    node.tag = 'tag:yaml.org,2002:binary';
  }
  // Ansible reads YAML 1.1, where a plain `yes`, `on` or `12:30` is a boolean or a number: quote
  // such values so the printout means what the vault holds when it is loaded again.
  node.type = typeof node.value === 'string' && changesMeaningInYaml11(node.value) ? Scalar.QUOTE_DOUBLE : undefined;
  plaintext.fill(0);
}

/** True when a plain (unquoted) `text` would not be that string to YAML 1.1 (`yes`, `on`, `12:30`, `1_000`, `~`). */
export function changesMeaningInYaml11(text: string): boolean {
  try {
    // logLevel silent: a warning (e.g. 'Unknown directive %...') would print the value to stderr.
    return parse(text, { version: '1.1', logLevel: 'silent' }) !== text;
  } catch {
    return true;
  }
}

