/**
 * Finding, parsing and validating `vaultsmith.yaml`. Every problem is reported as
 * `<file>:<line>:<col>: <dotted.path>: <reason>`, located through the yaml package's LineCounter.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { LineCounter, isMap, isScalar, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { VaultsmithError } from '../errors.js';
import { readFileOrThrow } from '../internal/safe-write.js';
import { manifestSchema, type Manifest } from './schema.js';
import { validateManifest, type ManifestIssue } from './validate.js';

import { findManifest } from './find.js';

export { findManifest, MANIFEST_FILE_NAMES } from './find.js';

export interface LoadedManifest {
  /** Absolute path of the manifest file. */
  path: string;
  /** Its directory: vault paths and relative password sources are resolved against it. */
  dir: string;
  manifest: Manifest;
}

export interface LocatedIssue extends ManifestIssue {
  line: number;
  col: number;
}

/** A manifest that does not parse or validate; `issues` lists every problem with its position. */
export class ManifestError extends VaultsmithError {
  readonly issues: LocatedIssue[];
  readonly file: string;
  constructor(file: string, issues: LocatedIssue[]) {
    const shown = issues.slice(0, 3).map((i) => formatIssue(file, i));
    const more = issues.length > 3 ? ` (and ${issues.length - 3} more)` : '';
    super('MANIFEST', `invalid manifest: ${shown.join('; ')}${more}`, {
      hint: "see 'vaultsmith check --help' and schema/vaultsmith.schema.json",
    });
    this.name = 'ManifestError';
    this.issues = issues;
    this.file = file;
  }
}

export function formatIssue(file: string, issue: LocatedIssue): string {
  const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
  return `${file}:${issue.line}:${issue.col}: ${where}${issue.message}`;
}


export async function loadManifest(options: { path?: string; cwd: string }): Promise<LoadedManifest> {
  let path: string;
  if (options.path) {
    path = resolve(options.cwd, options.path);
    if (!existsSync(path)) throw new VaultsmithError('MANIFEST', `manifest ${path} does not exist`);
  } else {
    const found = findManifest(options.cwd);
    if (!found) {
      throw new VaultsmithError('MANIFEST', `no vaultsmith.yaml found in ${resolve(options.cwd)} or any parent directory`, {
        hint: "run 'vaultsmith init' to create one, or pass --manifest PATH",
      });
    }
    path = found;
  }
  const text = (await readFileOrThrow(path)).toString('utf8');
  return { path, dir: dirname(path), manifest: parseManifest(text, path) };
}

/** Parses and validates manifest text; `file` is used in messages only. */
export function parseManifest(text: string, file = 'vaultsmith.yaml'): Manifest {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const position = (offset: number) => {
    const p = lineCounter.linePos(offset);
    return { line: p.line, col: p.col };
  };
  if (doc.errors.length) {
    throw new ManifestError(
      file,
      doc.errors.map((e) => ({ path: [], message: `YAML syntax: ${e.message.split('\n')[0]}`, ...position(e.pos[0]) })),
    );
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};
  const parsed = manifestSchema.safeParse(data);
  if (!parsed.success) {
    throw new ManifestError(file, parsed.error.issues.flatMap((i) => zodIssueToLocated(doc, i, position)));
  }
  const issues = validateManifest(parsed.data);
  if (issues.length) {
    throw new ManifestError(
      file,
      issues.map((i) => ({ ...i, ...position(locate(doc, i.path)) })),
    );
  }
  return parsed.data;
}

function zodIssueToLocated(
  doc: Document,
  issue: z.core.$ZodIssue,
  position: (offset: number) => { line: number; col: number },
): LocatedIssue[] {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  if (issue.code === 'invalid_union' && issue.errors.length) {
    // zod only says "Invalid input" for a union (`generate: fernett`); the option that got furthest
    // (errors below the root, else not a type mismatch) says what is actually wrong.
    const options = issue.errors.filter((errs) => errs.length > 0);
    const failsAtRoot = (errs: z.core.$ZodIssue[], codes: string[]) => errs.some((e) => e.path.length === 0 && codes.includes(e.code));
    const best =
      options.find((errs) => !failsAtRoot(errs, ['invalid_type', 'invalid_value', 'invalid_union'])) ??
      options.find((errs) => !failsAtRoot(errs, ['invalid_type', 'invalid_union']));
    if (best) return best.flatMap((e) => zodIssueToLocated(doc, { ...e, path: [...issue.path, ...e.path] } as z.core.$ZodIssue, position));
  }
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      path: [...path, key],
      message: `unknown key '${key}'${suggestion(key, doc, path)}`,
      ...position(locateKey(doc, path, key)),
    }));
  }
  let message = issue.message;
  // zod leaves `input` out of issues, so presence is looked up in the document itself.
  if (issue.code === 'invalid_type' && !doc.hasIn(path)) message = 'is required';
  return [{ path, message, ...position(locate(doc, path)) }];
}

/** "did you mean ..." for misspelt keys of a known object. */
function suggestion(key: string, doc: Document, parentPath: (string | number)[]): string {
  const known: Record<string, string[]> = {
    '': ['version', 'project', 'environments', 'settings', 'secrets', 'variables', 'services', 'audit'],
    environments: ['vault', 'vault_id', 'production'],
    secrets: ['description', 'group', 'generate', 'default', 'placeholder', 'required', 'format', 'min_strength', 'template', 'rotation'],
    variables: ['description', 'services', 'secret', 'template', 'value', 'optional', 'podman'],
    services: ['description', 'restart', 'health', 'unit'],
  };
  void doc;
  const section = parentPath.length === 0 ? '' : parentPath.length === 2 ? String(parentPath[0]) : undefined;
  const candidates = section === undefined ? [] : (known[section] ?? []);
  const close = candidates.find((c) => editDistance(c, key) <= 2);
  return close ? ` (did you mean '${close}'?)` : '';
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/** Offset of the node at `path`, or of its nearest existing ancestor. */
function locate(doc: Document, path: (string | number)[]): number {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (node && typeof node === 'object' && 'range' in node && Array.isArray(node.range)) {
      // For a mapping value, point at its key: that is where a reader looks for `secrets.x`.
      if (n > 0) {
        const keyOffset = locateKey(doc, path.slice(0, n - 1), path[n - 1] as string | number, -1);
        if (keyOffset >= 0 && isMap(node)) return keyOffset;
      }
      return (node.range as [number, number, number])[0];
    }
  }
  return 0;
}

function locateKey(doc: Document, parentPath: (string | number)[], key: string | number, fallback?: number): number {
  const parent = parentPath.length === 0 ? doc.contents : doc.getIn(parentPath, true);
  if (isMap(parent)) {
    for (const pair of parent.items) {
      if (isScalar(pair.key) && String(pair.key.value) === String(key) && pair.key.range) return pair.key.range[0];
    }
  }
  return fallback ?? locate(doc, parentPath);
}
