/**
 * Quoting a secret for the file it is pasted into. Each format returns text that the target's own
 * parser turns back into exactly the value, so characters such as `$ % # ( ) & * ' " \` survive:
 *
 * - yaml:    a double-quoted scalar (YAML 1.1 and 1.2); control characters as escapes.
 * - dotenv:  single quotes (literal in docker compose and django-environ); values with `'` or `\`
 *            use double quotes with `\\` `\"` `\n` escapes. Refused rather than silently altered:
 *            `${` anywhere (python-dotenv interpolates `${NAME}` even inside single quotes), a `$`
 *            in a value needing double quotes (compose interpolates there), and a value needing
 *            double quotes that ends in `\` (python-dotenv cannot read `"...\\"`). `docker run` and
 *            `podman run --env-file` do not parse quotes at all; these files are not for them.
 * - systemd: a double-quoted word for a unit file (`Environment=`), C escapes, `%` doubled because
 *            systemd expands `%` specifiers even inside quotes.
 * - shell:   POSIX single quotes, `'` written as `'\''`.
 */
import { VaultsmithError } from '../errors.js';

export type QuoteFormat = 'yaml' | 'dotenv' | 'systemd' | 'shell';
export const QUOTE_FORMATS: readonly QuoteFormat[] = ['yaml', 'dotenv', 'systemd', 'shell'];

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function hex2(code: number): string {
  return code.toString(16).padStart(2, '0');
}

const YAML_ESCAPES: Record<string, string> = {
  '\0': '\\0', '\x07': '\\a', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\v': '\\v', '\f': '\\f',
  '\r': '\\r', '\x1b': '\\e', '"': '\\"', '\\': '\\\\', '\u2028': '\\L', '\u2029': '\\P',
};

function quoteYaml(value: string): string {
  // C0, DEL, C1 and the BOM are not allowed unescaped in a YAML stream.
  return `"${value.replace(/[\0-\x1f"\\\x7f-\x9f\u2028\u2029\ufeff]/g, (c) => {
    const known = YAML_ESCAPES[c];
    if (known) return known;
    const code = c.charCodeAt(0);
    return code > 0xff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\x${hex2(code)}`;
  })}"`;
}

const DOTENV_HINT = "use a value without ' \\ or $ (e.g. gen --charset url-safe), or --format shell, systemd or json";

function quoteDotenv(value: string): string {
  if (value.includes('${')) {
    throw new VaultsmithError('INPUT', 'value cannot be quoted portably for a .env file (it contains ${, which python-dotenv interpolates)', {
      hint: DOTENV_HINT,
    });
  }
  if (!/['\\\n\r]/.test(value)) return `'${value}'`;
  if (value.includes('$')) {
    throw new VaultsmithError('INPUT', 'value cannot be quoted portably for a .env file (it contains a quote or backslash and a $)', {
      hint: DOTENV_HINT,
    });
  }
  if (value.endsWith('\\')) {
    throw new VaultsmithError('INPUT', 'value cannot be quoted portably for a .env file (it needs double quotes and ends in a backslash)', {
      hint: DOTENV_HINT,
    });
  }
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;
}

const C_ESCAPES: Record<string, string> = {
  '\x07': '\\a', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\v': '\\v', '\f': '\\f', '\r': '\\r',
  '"': '\\"', '\\': '\\\\', '%': '%%',
};

function escapeSystemd(value: string): string {
  return value.replace(/[\0-\x1f"\\%\x7f]/g, (c) => C_ESCAPES[c] ?? `\\x${hex2(c.charCodeAt(0))}`);
}

function quoteShell(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function assertText(value: string): void {
  if (typeof value !== 'string') throw new TypeError('value must be a string');
  if (LONE_SURROGATE.test(value)) throw new VaultsmithError('INPUT', 'value is not valid Unicode text');
}

/** The value quoted for `format` (see the module comment for the exact rules). */
export function quoteValue(value: string, format: QuoteFormat): string {
  assertText(value);
  switch (format) {
    case 'yaml':
      return quoteYaml(value);
    case 'dotenv':
      return quoteDotenv(value);
    case 'systemd':
      if (value.includes('\0')) throw new VaultsmithError('INPUT', 'a systemd value cannot contain a NUL character');
      return `"${escapeSystemd(value)}"`;
    case 'shell':
      if (value.includes('\0')) throw new VaultsmithError('INPUT', 'a shell value cannot contain a NUL character');
      return quoteShell(value);
    default:
      throw new VaultsmithError('USAGE', `unknown format '${String(format)}' (expected ${QUOTE_FORMATS.join(', ')})`);
  }
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const YAML_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * A whole assignment line: `name: "v"` (yaml), `NAME='v'` (dotenv, shell) or
 * `Environment="NAME=v"` (systemd: the whole assignment is quoted, as systemd.exec documents).
 */
/** Whether quoteValue can quote `value` for `format` (a .env file cannot hold every string portably). */
export function canQuote(value: string, format: QuoteFormat): boolean {
  try {
    quoteValue(value, format);
    return true;
  } catch {
    return false;
  }
}

export function formatAssignment(name: string, value: string, format: QuoteFormat): string {
  const pattern = format === 'yaml' ? YAML_KEY : ENV_NAME;
  if (!pattern.test(name)) {
    throw new VaultsmithError('INPUT', `'${name}' is not a valid ${format === 'yaml' ? 'YAML key' : 'variable name'}`);
  }
  switch (format) {
    case 'yaml':
      return `${name}: ${quoteValue(value, 'yaml')}`;
    case 'systemd':
      assertText(value);
      if (value.includes('\0')) throw new VaultsmithError('INPUT', 'a systemd value cannot contain a NUL character');
      return `Environment="${name}=${escapeSystemd(value)}"`;
    default:
      try {
        return `${name}=${quoteValue(value, format)}`;
      } catch (e) {
        // Say which variable cannot be written (the value itself is never shown).
        if (e instanceof VaultsmithError) throw new VaultsmithError(e.code, `${name}: ${e.message}`, { hint: e.hint, cause: e });
        throw e;
      }
  }
}
