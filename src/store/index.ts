/**
 * A decrypted vault as an editable YAML document: read, modify keeping comments, key order and
 * formatting (the yaml package's Document API), re-encrypt with the same label, write atomically
 * under an advisory lock. Plaintext exists only in memory.
 */
import { isDeepStrictEqual } from 'node:util';
import { isMap, isScalar, parseDocument, Scalar, type Document } from 'yaml';
import { VaultsmithError } from '../errors.js';
import { withFileLock } from '../internal/file-lock.js';
import { readFileOrThrow, safeWrite } from '../internal/safe-write.js';
import { decryptVault, encryptVault, vaultYamlTag } from '../vault/index.js';
import { changesMeaningInYaml11 } from '../vault/inline.js';
import type { VaultSecret } from '../vault/types.js';

/**
 * A yaml parse error described without any of the plaintext: the yaml package appends the offending
 * source to some messages (`Unresolved alias ...: <the rest of a value starting with *>`, a code
 * excerpt on later lines), which in a vault is secret. Keeps the description and the position.
 */
export function describeYamlError(error: unknown): string {
  const e = error as { message?: unknown; linePos?: { line: number; col: number }[] };
  const first = String(e?.message ?? error).split('\n')[0]!;
  let description = first.replace(/ at line \d+, column \d+:?$/, '');
  const cut = description.indexOf(': ');
  if (cut !== -1) description = description.slice(0, cut);
  const where = e?.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
  return `${description}${where}`;
}

/** Parses vault plaintext as a YAML document; refuses anything that is not a mapping. */
export function parseVaultDocument(text: string, source: string): Document {
  const doc = parseDocument(text, { customTags: [vaultYamlTag], keepSourceTokens: false });
  if (doc.errors.length) {
    throw new VaultsmithError('INPUT', `the decrypted content of ${source} is not valid YAML: ${describeYamlError(doc.errors[0])}`);
  }
  let js: unknown;
  try {
    js = doc.toJS();
  } catch (e) {
    throw new VaultsmithError('INPUT', `the decrypted content of ${source} is not valid YAML: ${describeYamlError(e)}`);
  }
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
 * `text` cut before every line that starts in column 0 (a top-level key, a comment, `---`): each
 * piece is one such line with its indented continuation lines (a block scalar, a long flow
 * collection) and blank lines. Joining the pieces gives `text` back exactly.
 */
function splitChunks(text: string): string[] {
  const lines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const chunks: string[] = [];
  for (const line of lines) {
    const continues = chunks.length > 0 && (line[0] === ' ' || line[0] === '\t' || line.trim() === '');
    if (continues) chunks[chunks.length - 1] += line;
    else chunks.push(line);
  }
  return chunks;
}

/** Longest-common-subsequence pairs (index in a, index in b) of two short arrays of chunks. */
function commonChunks(a: string[], b: string[]): [number, number][] {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const table = new Uint32Array(rows * cols);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      table[i * cols + j] = a[i] === b[j] ? table[(i + 1) * cols + j + 1]! + 1 : Math.max(table[(i + 1) * cols + j]!, table[i * cols + j + 1]!);
    }
  }
  const pairs: [number, number][] = [];
  for (let i = 0, j = 0; i < a.length && j < b.length; ) {
    if (a[i] === b[j]) pairs.push([i++, j++]);
    else if (table[(i + 1) * cols + j]! >= table[i * cols + j + 1]!) i++;
    else j++;
  }
  return pairs;
}

/** Above this many chunk comparisons the whole document is printed instead (still correct, less exact). */
const MAX_DIFF_CELLS = 4_000_000;

/**
 * The edited document as text, keeping every line the edit did not touch byte for byte. The yaml
 * package prints a whole document in its own style (one space before a comment, `[ a, b ]` flow
 * collections, folded scalars joined), which would reformat lines nobody edited. So the document is
 * printed before and after the edit, the two printouts are diffed by top-level chunk (see
 * splitChunks), and each unchanged chunk is taken from the original text: possible whenever
 * printing keeps the number of chunks (it maps chunk i to chunk i). The result must parse to the
 * same data as the edited document, or the plain printout is used.
 */
function keepUntouchedLines(original: string, normalizedBefore: string, edited: Document): string {
  const normalizedAfter = stringifyVaultDocument(edited);
  if (normalizedBefore === original) return normalizedAfter;
  const originalChunks = splitChunks(original);
  const beforeChunks = splitChunks(normalizedBefore);
  const afterChunks = splitChunks(normalizedAfter);
  if (originalChunks.length !== beforeChunks.length) return normalizedAfter;
  let prefix = 0;
  while (prefix < beforeChunks.length && prefix < afterChunks.length && beforeChunks[prefix] === afterChunks[prefix]) prefix++;
  let suffix = 0;
  while (
    suffix < beforeChunks.length - prefix &&
    suffix < afterChunks.length - prefix &&
    beforeChunks[beforeChunks.length - 1 - suffix] === afterChunks[afterChunks.length - 1 - suffix]
  ) {
    suffix++;
  }
  const middleBefore = beforeChunks.slice(prefix, beforeChunks.length - suffix);
  const middleAfter = afterChunks.slice(prefix, afterChunks.length - suffix);
  if ((middleBefore.length + 1) * (middleAfter.length + 1) > MAX_DIFF_CELLS) return normalizedAfter;
  const fromOriginal = new Map<number, number>(); // chunk of the edited printout → chunk of the original
  for (let k = 0; k < prefix; k++) fromOriginal.set(k, k);
  for (const [i, j] of commonChunks(middleBefore, middleAfter)) fromOriginal.set(prefix + j, prefix + i);
  for (let k = 0; k < suffix; k++) fromOriginal.set(afterChunks.length - 1 - k, beforeChunks.length - 1 - k);
  let patched = afterChunks.map((chunk, j) => {
    const i = fromOriginal.get(j);
    return i === undefined ? chunk : originalChunks[i]!;
  });
  // The original's last chunk may lack a line break that the printout's has: keep the break when
  // a chunk follows it now.
  patched = patched.map((chunk, j) => (j < patched.length - 1 && !chunk.endsWith('\n') ? `${chunk}\n` : chunk));
  const text = patched.join('');
  const check = parseDocument(text, { customTags: [vaultYamlTag] });
  if (check.errors.length || !isDeepStrictEqual(check.toJS(), edited.toJS())) return normalizedAfter;
  return text;
}

/**
 * The yaml package prints YAML 1.2, where `yes`, `on`, `12:30` and `1_000` are plain strings; Ansible
 * reads vaults as YAML 1.1 (PyYAML), where they are a boolean or a number. So every top-level string
 * the edit wrote (new or changed) is double-quoted when a plain form would change its meaning there.
 * Values the edit did not touch keep their form (and the meaning Ansible gives them today).
 */
function quoteChangedStringsForYaml11(doc: Document, valuesBefore: unknown): void {
  if (!isMap(doc.contents)) return;
  const before = (valuesBefore ?? {}) as Record<string, unknown>;
  for (const pair of doc.contents.items) {
    // `doc.set(key, 'x')` on a new key stores the bare string, not a Scalar node.
    if (typeof pair.value === 'string') pair.value = doc.createNode(pair.value);
    const key = isScalar(pair.key) ? String(pair.key.value) : typeof pair.key === 'string' ? pair.key : undefined;
    if (key === undefined || !isScalar(pair.value) || typeof pair.value.value !== 'string') continue;
    const unchanged = Object.hasOwn(before, key) && before[key] === pair.value.value;
    if (unchanged || (pair.value.type !== undefined && pair.value.type !== Scalar.PLAIN)) continue;
    if (changesMeaningInYaml11(pair.value.value)) pair.value.type = Scalar.QUOTE_DOUBLE;
  }
}

/** CONFLICT when `path` no longer holds `expected` (another tool rewrote it). */
async function assertUnchangedOnDisk(path: string, expected: Buffer): Promise<void> {
  const now = await readFileOrThrow(path);
  if (!now.equals(expected)) {
    throw new VaultsmithError('CONFLICT', `${path} was changed by another program while this command ran; nothing was written`, {
      hint: 'run the command again (it will start from the new content)',
    });
  }
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
      const normalizedBefore = stringifyVaultDocument(doc);
      const valuesBefore: unknown = doc.toJS();
      await mutate(doc);
      quoteChangedStringsForYaml11(doc, valuesBefore);
      const after = keepUntouchedLines(before, normalizedBefore, doc);
      if (after === before) return;
      const encrypted = await encryptVault(after, secret, { label });
      // Our lock keeps vaultsmith out, not ansible-vault or an editor: if the file changed since it
      // was read, writing would silently undo that change (a rekey, say), so nothing is written.
      await safeWrite(vaultPath, encrypted, { beforeReplace: () => assertUnchangedOnDisk(vaultPath, vaultText) });
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
