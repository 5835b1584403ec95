/**
 * Manifest templates: `redis://:{vault_redis_password}@redis:6379/0`.
 *
 * `{name}` inserts a vault key or a setting as is; `{name|url}` percent-encodes it (RFC 3986
 * unreserved characters stay), for values that may hold `@`, `:` or `/`. The senex preset generates
 * URL-safe passwords, so its URL templates insert them as is and stay readable. `{{` and `}}` are
 * literal braces.
 */

export type TemplateFilter = 'url';

export type TemplatePart = { text: string } | { name: string; filter?: TemplateFilter };

export class TemplateSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'TemplateSyntaxError';
  }
}

const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?:\|([A-Za-z0-9_-]+))?$/;

export function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let text = '';
  let i = 0;
  while (i < template.length) {
    const ch = template[i];
    if (ch === '{' && template[i + 1] === '{') {
      text += '{';
      i += 2;
    } else if (ch === '}' && template[i + 1] === '}') {
      text += '}';
      i += 2;
    } else if (ch === '{') {
      const end = template.indexOf('}', i + 1);
      if (end === -1) throw new TemplateSyntaxError(`unclosed '{' at column ${i + 1}`, i);
      const inner = template.slice(i + 1, end).trim();
      const m = REFERENCE.exec(inner);
      if (!m) throw new TemplateSyntaxError(`invalid reference '{${inner}}' (expected {name} or {name|url})`, i);
      if (m[2] !== undefined && m[2] !== 'url') {
        throw new TemplateSyntaxError(`unknown filter '|${m[2]}' in '{${inner}}' (only |url)`, i);
      }
      if (text) parts.push({ text });
      text = '';
      parts.push(m[2] ? { name: m[1] as string, filter: 'url' } : { name: m[1] as string });
      i = end + 1;
    } else if (ch === '}') {
      throw new TemplateSyntaxError(`unmatched '}' at column ${i + 1} (write '}}' for a literal brace)`, i);
    } else {
      text += ch;
      i += 1;
    }
  }
  if (text) parts.push({ text });
  return parts;
}

/** The names a template refers to, in order, without duplicates. */
export function templateReferences(template: string): string[] {
  const names: string[] = [];
  for (const p of parseTemplate(template)) {
    if ('name' in p && !names.includes(p.name)) names.push(p.name);
  }
  return names;
}

/**
 * Renders a template; `lookup` returns the value of a name or undefined when it has none (then the
 * result is undefined and `missing` lists what was absent). Values for which `verbatim` is true skip
 * their filter (a `****` mask stays readable inside `{password|url}`).
 */
export function renderTemplate(
  template: string,
  lookup: (name: string) => string | undefined,
  options: { verbatim?: (value: string) => boolean } = {},
): { value: string | undefined; missing: string[]; used: string[] } {
  let out = '';
  const missing: string[] = [];
  const used: string[] = [];
  for (const p of parseTemplate(template)) {
    if ('text' in p) {
      out += p.text;
      continue;
    }
    const v = lookup(p.name);
    if (v === undefined) {
      if (!missing.includes(p.name)) missing.push(p.name);
      continue;
    }
    if (!used.includes(p.name)) used.push(p.name);
    out += p.filter === 'url' && !options.verbatim?.(v) ? encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`) : v;
  }
  return { value: missing.length ? undefined : out, missing, used };
}
