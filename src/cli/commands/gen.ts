import { VaultsmithError } from '../../errors.js';
import {
  DEFAULT_BYTES,
  DEFAULT_PASSWORD_LENGTH,
  GENERATOR_KINDS,
  QUOTE_FORMATS,
  canQuote,
  formatAssignment,
  generateSecret,
  generatorEntropyBits,
  isGeneratorKind,
  quoteValue,
  type GeneratorSpec,
  type QuoteFormat,
} from '../../gen/index.js';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../context.js';
import { write, writeJson } from '../output.js';

const MAX_COUNT = 10000;
/** Draws per value before giving up on a --format that cannot quote what the charset produces. */
const MAX_REDRAWS = 1000;

const help = `Usage: vaultsmith gen <kind> [N] [options]

Generates secrets from the OS random generator (node:crypto), one per line. Characters are drawn by
rejection sampling, so none is favoured.

Kinds:
  django-secret-key   50 characters from Django's get_random_secret_key() alphabet
                      (a-z 0-9 !@#$%^&*(-_=+)); passes Django's SECRET_KEY checks
  fernet              a Fernet key: 32 random bytes, url-safe base64 (Fernet.generate_key())
  base64 [N]          N random bytes (default ${DEFAULT_BYTES}), standard base64 on one line
                      (openssl rand -base64 N)
  hex [N]             N random bytes (default ${DEFAULT_BYTES}) as lowercase hex (openssl rand -hex N)
  token-urlsafe [N]   N random bytes (default ${DEFAULT_BYTES}), url-safe base64 without padding
                      (Python secrets.token_urlsafe(N))
  password            --length characters (default ${DEFAULT_PASSWORD_LENGTH}) from --charset (default alnum)

Options:
  --count N           print N values (default 1)
  --bytes N           random bytes for base64, hex, token-urlsafe (same as the N argument)
  --length N          password length, or a django-secret-key longer than 50
  --charset SET       password characters: a charset name (below) or a literal list of
                      characters, e.g. 'abcdef0123456789'
  --exclude CHARS     leave these characters out of the charset, e.g. --exclude '"\\$\`'
  --format FMT        quote the value for yaml, dotenv, systemd or shell; the Django alphabet's
                      $ % # ( ) & * break unquoted .env files, systemd % specifiers and shells;
                      a value the format cannot quote (' or \ with $ in .env) is drawn again
  --name NAME         with --format: print a whole assignment (NAME='...', name: "...",
                      Environment="NAME=...")
  --json              {"kind", "bits", "values", "formatted"?} on stdout
  -h, --help          show this help

Charsets:
  alnum               A-Z a-z 0-9 (the default)
  safe                alnum and - _ . : needs no quoting in URLs, shells, YAML, .env or systemd
  url-safe            RFC 3986 unreserved characters: alnum and - . _ ~
  ascii-printable     all 94 visible ASCII characters (use --format to quote the result)
  alpha, lower, upper, digits, hex, django (Django's secret key alphabet)

Examples:
  vaultsmith gen django-secret-key
  vaultsmith gen django-secret-key --format dotenv --name SECRET_KEY >> .env
  vaultsmith gen fernet --name FIELD_ENCRYPTION_KEY --format systemd
  vaultsmith gen base64 24                 # like: openssl rand -base64 24
  vaultsmith gen hex 16 --count 3
  vaultsmith gen password --length 40 --charset url-safe
  vaultsmith gen password --charset ascii-printable --exclude '"\\$\`{}' --format yaml
  vaultsmith gen token-urlsafe 48 --json
`;

function positiveInteger(option: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new VaultsmithError('USAGE', `gen: ${option} must be a positive integer, not '${text}'`);
  }
  return Number(text);
}

function quoteFormat(text: string | undefined): QuoteFormat | undefined {
  if (text === undefined) return undefined;
  if ((QUOTE_FORMATS as readonly string[]).includes(text)) return text as QuoteFormat;
  throw new VaultsmithError('USAGE', `gen: --format must be one of ${QUOTE_FORMATS.join(', ')}, not '${text}'`);
}

/** generateSecret, with an out-of-range size or an unusable charset reported as a usage error (exit 2), like a malformed option. */
function drawChecked(spec: GeneratorSpec): string {
  try {
    return generateSecret(spec);
  } catch (e) {
    if (e instanceof VaultsmithError && e.code === 'INPUT') throw new VaultsmithError('USAGE', e.message, e.hint ? { hint: e.hint } : {});
    throw e;
  }
}

export const genCommand: Command = {
  name: 'gen',
  aliases: ['generate'],
  summary: 'generate Django keys, Fernet keys, random tokens and passwords',
  help,
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs('gen', args, {
      count: { type: 'string' },
      bytes: { type: 'string' },
      length: { type: 'string' },
      charset: { type: 'string' },
      exclude: { type: 'string' },
      format: { type: 'string' },
      name: { type: 'string' },
      json: { type: 'boolean' },
    });
    const [kind, sizeArgument, ...extra] = positionals;
    if (kind === undefined) {
      throw new VaultsmithError('USAGE', 'gen: missing kind', { hint: `kinds: ${GENERATOR_KINDS.join(', ')}` });
    }
    if (!isGeneratorKind(kind)) {
      throw new VaultsmithError('USAGE', `gen: unknown kind '${kind}'`, { hint: `kinds: ${GENERATOR_KINDS.join(', ')}` });
    }
    const takesBytes = kind === 'base64' || kind === 'hex' || kind === 'token-urlsafe';
    if (extra.length || (sizeArgument !== undefined && !takesBytes)) {
      throw new VaultsmithError('USAGE', `gen: unexpected argument '${extra[0] ?? sizeArgument}'`, { hint: "see 'vaultsmith gen --help'" });
    }
    if (sizeArgument !== undefined && values.bytes !== undefined) {
      throw new VaultsmithError('USAGE', 'gen: give the byte count once (N or --bytes N)');
    }
    const bytes = positiveInteger(sizeArgument !== undefined ? 'N' : '--bytes', sizeArgument ?? values.bytes);
    const length = positiveInteger('--length', values.length);
    if (bytes !== undefined && !takesBytes) throw new VaultsmithError('USAGE', `gen: --bytes does not apply to ${kind}`);
    if (length !== undefined && kind !== 'password' && kind !== 'django-secret-key') {
      throw new VaultsmithError('USAGE', `gen: --length does not apply to ${kind}`, {
        hint: takesBytes ? `${kind} takes a byte count: vaultsmith gen ${kind} N` : undefined,
      });
    }
    if ((values.charset !== undefined || values.exclude !== undefined) && kind !== 'password') {
      throw new VaultsmithError('USAGE', `gen: --charset and --exclude apply to password only`);
    }
    const count = positiveInteger('--count', values.count) ?? 1;
    if (count > MAX_COUNT) throw new VaultsmithError('USAGE', `gen: --count must be at most ${MAX_COUNT}`);
    const format = quoteFormat(values.format);
    if (values.name !== undefined && format === undefined) {
      throw new VaultsmithError('USAGE', 'gen: --name needs --format (yaml, dotenv, systemd or shell)');
    }
    if (values.name !== undefined && count > 1) throw new VaultsmithError('USAGE', 'gen: --name prints one assignment; drop --count');

    const spec: GeneratorSpec = { kind, bytes, length, charset: values.charset, exclude: values.exclude };
    const generated: string[] = [];
    for (let i = 0; i < count; i++) {
      // A value the format cannot quote (e.g. ' and $ together for a .env file) is drawn again:
      // the result stays uniform over the values that can be written.
      let value = drawChecked(spec);
      for (let attempt = 1; format && !canQuote(value, format) && attempt < MAX_REDRAWS; attempt++) value = generateSecret(spec);
      generated.push(value);
    }
    // Quote everything before printing anything, so a value that cannot be quoted prints nothing.
    const formatted = format
      ? generated.map((v) => (values.name !== undefined ? formatAssignment(values.name, v, format) : quoteValue(v, format)))
      : undefined;

    if (values.json) {
      await writeJson(ctx, {
        kind,
        bits: Math.floor(generatorEntropyBits(spec)),
        values: generated,
        ...(formatted ? { format, formatted } : {}),
      });
    } else {
      await write(ctx.stdout, `${(formatted ?? generated).join('\n')}\n`);
    }
    return 0;
  },
};
