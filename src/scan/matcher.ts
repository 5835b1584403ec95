import { AhoCorasick } from './aho-corasick.js';

/** A secret value to look for, with the names it is known by (never printed: only `name`). */
export interface SecretPattern {
  /** e.g. `db_password` or `db_password (previous)`. */
  name: string;
  value: string;
  environment?: string;
}

export type SecretEncoding = 'plain' | 'base64' | 'base64url' | 'url' | 'json';

export interface SecretMatch {
  /** Names (with environments) of every secret with this value. */
  names: string[];
  environments: string[];
  encoding: SecretEncoding;
  /** 1-based line of the match start. */
  line: number;
  /** Byte offset of the match start. */
  offset: number;
}

/** Secrets shorter than this are not searched: they would match everywhere. */
export const MIN_SECRET_LENGTH = 8;

/**
 * The base64 text that a value produces wherever it sits inside a larger base64 stream: for each of
 * the 3 byte alignments, the characters fully determined by the value's own bits.
 */
export function base64Cores(value: Buffer): string[] {
  const cores: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), value]).toString('base64');
    const first = Math.ceil((8 * offset) / 6);
    const end = Math.floor((8 * (offset + value.length)) / 6);
    const core = encoded.slice(first, end);
    if (core.length >= MIN_SECRET_LENGTH) cores.push(core);
  }
  return cores;
}

/** Every form of a value searched for: plain, base64 (std and URL-safe), URL-encoded, JSON-escaped. */
export function encodedVariants(value: string): Array<{ encoding: SecretEncoding; text: string }> {
  const variants: Array<{ encoding: SecretEncoding; text: string }> = [{ encoding: 'plain', text: value }];
  for (const core of base64Cores(Buffer.from(value, 'utf8'))) {
    variants.push({ encoding: 'base64', text: core });
    const urlSafe = core.replace(/\+/g, '-').replace(/\//g, '_');
    if (urlSafe !== core) variants.push({ encoding: 'base64url', text: urlSafe });
  }
  const url = encodeURIComponent(value);
  if (url !== value) variants.push({ encoding: 'url', text: url });
  const form = url.replace(/%20/g, '+');
  if (form !== url) variants.push({ encoding: 'url', text: form });
  // Some encoders (Python's urllib.parse.quote with safe='') also escape these.
  const strict = url.replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  if (strict !== url) variants.push({ encoding: 'url', text: strict });
  // Lowercase hex escapes are just as valid (%2f) and some encoders and people write them.
  const lower = url.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase());
  if (lower !== url) variants.push({ encoding: 'url', text: lower });
  const json = JSON.stringify(value).slice(1, -1);
  if (json !== value) variants.push({ encoding: 'json', text: json });
  const jsonSlash = json.replace(/\//g, '\\/'); // PHP-style escaped slashes
  if (jsonSlash !== json) variants.push({ encoding: 'json', text: jsonSlash });
  return variants;
}

interface PatternInfo {
  names: string[];
  environments: string[];
  encoding: SecretEncoding;
}

/** All secrets compiled into one automaton; each blob is read once whatever the number of secrets. */
export class SecretMatcher {
  private readonly automaton: AhoCorasick | null;
  private readonly info: PatternInfo[] = [];
  readonly secretCount: number;

  constructor(secrets: SecretPattern[]) {
    const byText = new Map<string, PatternInfo>();
    const values = new Set<string>();
    for (const secret of secrets) {
      if (secret.value.length < MIN_SECRET_LENGTH) continue;
      values.add(secret.value);
      for (const variant of encodedVariants(secret.value)) {
        let entry = byText.get(variant.text);
        if (!entry) {
          entry = { names: [], environments: [], encoding: variant.encoding };
          byText.set(variant.text, entry);
        }
        if (!entry.names.includes(secret.name)) entry.names.push(secret.name);
        if (secret.environment && !entry.environments.includes(secret.environment)) entry.environments.push(secret.environment);
      }
    }
    this.secretCount = values.size;
    const patterns: Uint8Array[] = [];
    for (const [text, entry] of byText) {
      patterns.push(Buffer.from(text, 'utf8'));
      this.info.push(entry);
    }
    this.automaton = patterns.length ? new AhoCorasick(patterns) : null;
  }

  get empty(): boolean {
    return this.automaton === null;
  }

  /** Matches in a blob, one per (line, secret, encoding); lines counted incrementally. */
  find(data: Uint8Array): SecretMatch[] {
    if (!this.automaton) return [];
    const matches: SecretMatch[] = [];
    const seen = new Set<string>();
    let line = 1;
    let counted = 0;
    this.automaton.scan(data, (id, start) => {
      // Matches arrive ordered by end; a start can precede `counted` only within one match's span.
      if (start > counted) {
        for (let i = counted; i < start; i++) if (data[i] === 0x0a) line++;
        counted = start;
      }
      const info = this.info[id]!;
      const key = `${line}\0${info.encoding}\0${info.names.join('\0')}`;
      if (seen.has(key)) return;
      seen.add(key);
      matches.push({ names: info.names, environments: info.environments, encoding: info.encoding, line, offset: start });
    });
    return matches;
  }

  test(data: Uint8Array): boolean {
    return this.automaton ? this.automaton.test(data) : false;
  }
}
