import { isDeepStrictEqual } from 'node:util';
import YAML, { isMap, isScalar, type Document, type Node, type Pair } from 'yaml';
import { vaultYamlTag, VaultEncryptedValue } from '../vault/index.js';

/**
 * Three-way merge of decrypted vault YAML by top-level key (ansible/ansible#81454: two people changing
 * different secrets of one vault should not conflict). Ours is the base of the output, so its
 * comments and key order survive; keys only theirs added are appended.
 */

import { CONFLICT_BASE, CONFLICT_END, CONFLICT_SEPARATOR, CONFLICT_START } from './conflict-markers.js';

export { findConflictMarkers, CONFLICT_BASE, CONFLICT_END, CONFLICT_SEPARATOR, CONFLICT_START } from './conflict-markers.js';

const parseOptions = { customTags: [vaultYamlTag], logLevel: 'error' as const, keepSourceTokens: false };

export interface YamlMergeResult {
  /** The merged plaintext: clean YAML, or YAML followed by conflict blocks. */
  text: string;
  conflicts: string[];
}

function parseMapDocument(text: string, side: string): Document.Parsed | null {
  const doc = YAML.parseDocument(text, parseOptions);
  if (doc.errors.length) throw new Error(`${side}: not valid YAML (${doc.errors[0]!.message.split('\n')[0]})`);
  if (doc.contents === null) return null;
  if (!isMap(doc.contents)) throw new Error(`${side}: not a YAML mapping`);
  return doc;
}

function comparable(value: unknown): unknown {
  if (value instanceof VaultEncryptedValue) return { vault: value.vaultText };
  if (Array.isArray(value)) return value.map(comparable);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, comparable(v)]));
  }
  return value;
}

function entries(doc: Document.Parsed | null): Map<string, { pair: Pair; value: unknown }> {
  const out = new Map<string, { pair: Pair; value: unknown }>();
  if (!doc || !isMap(doc.contents)) return out;
  for (const pair of doc.contents.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    const value = pair.value && typeof (pair.value as Node).toJSON === 'function' ? (pair.value as Node).toJSON() : pair.value;
    out.set(key, { pair, value: comparable(value) });
  }
  return out;
}

function renderSide(key: string, side: { pair: Pair } | undefined, doc: Document.Parsed | null): string {
  if (!side || !doc) return `# (no ${key})\n`;
  const single = new YAML.Document(null, parseOptions);
  const map = single.createNode({}) as YAML.YAMLMap;
  map.items.push(side.pair);
  single.contents = map;
  return single.toString();
}

export function mergeVaultYaml(baseText: string, oursText: string, theirsText: string): YamlMergeResult {
  const base = parseMapDocument(baseText, 'base');
  const ours = parseMapDocument(oursText, 'ours') ?? (YAML.parseDocument('{}', parseOptions) as Document.Parsed);
  const theirs = parseMapDocument(theirsText, 'theirs');
  const b = entries(base);
  const o = entries(ours);
  const t = entries(theirs);
  const oursMap = ours.contents as YAML.YAMLMap;
  if (oursMap.flow) oursMap.flow = false; // a '{}' placeholder must become block style
  const conflicts: string[] = [];
  const keys = [...o.keys(), ...[...t.keys()].filter((k) => !o.has(k))];
  for (const key of keys) {
    const inBase = b.get(key);
    const mine = o.get(key);
    const other = t.get(key);
    const same = (x: { value: unknown } | undefined, y: { value: unknown } | undefined) =>
      x === undefined ? y === undefined : y !== undefined && isDeepStrictEqual(x.value, y.value);
    if (same(mine, other)) continue; // both equal (or both deleted)
    if (same(inBase, mine)) {
      // Only theirs changed this key: take their version (or their deletion).
      if (!other) oursMap.delete(key);
      else if (mine) mine.pair.value = other.pair.value;
      else oursMap.items.push(other.pair);
      continue;
    }
    if (same(inBase, other)) continue; // only ours changed it
    conflicts.push(key);
  }
  if (conflicts.length === 0) return { text: ours.toString(), conflicts };

  const blocks = conflicts.map((key) => {
    const mine = o.get(key);
    const other = t.get(key);
    const parts = [
      `${CONFLICT_START} ours\n`,
      renderSide(key, mine, ours),
      `${CONFLICT_BASE} base\n`,
      renderSide(key, b.get(key), base),
      `${CONFLICT_SEPARATOR}\n`,
      renderSide(key, other, theirs),
      `${CONFLICT_END} theirs\n`,
    ];
    return parts.join('');
  });
  for (const key of conflicts) oursMap.delete(key);
  const merged = oursMap.items.length ? ours.toString() : '';
  return { text: `${merged}${blocks.join('')}`, conflicts };
}
