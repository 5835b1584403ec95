// quoteValue is checked against the real parsers where they exist here: the `yaml` package (YAML
// 1.2), Python's PyYAML (YAML 1.1, what Ansible reads), dash and bash. Test values are generated
// or synthetic; scripts go to the shells on stdin, never in argv.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { parse } from 'yaml';
import { VaultsmithError } from '../../src/errors.js';
import { formatAssignment, generateSecret, quoteValue } from '../../src/gen/index.js';
import { requireTool } from '../helpers/tools.js';
import { requirePythonModule, runPythonJson } from '../helpers/python.js';

const TRICKY = [
  '',
  'plain',
  "it's",
  'say "hi"',
  'back\\slash\\\\n',
  '$HOME ${HOME} $(id) `id`',
  '%h %i %%',
  '# not a comment',
  ' leading and trailing ',
  'tab\there',
  'line\nbreak\r\n',
  'yes',
  'null',
  '0x10',
  '- item',
  'key: value',
  '{{ ansible }}',
  '&anchor *alias !tag @at |pipe >fold',
  'ünïcödé ✓ 🔑',
  '\x01\x1b\x7f\u0085\u2028\ufeff',
];

function values(): string[] {
  return [
    ...TRICKY,
    ...Array.from({ length: 20 }, () => generateSecret({ kind: 'django-secret-key' })),
    ...Array.from({ length: 20 }, () => generateSecret({ kind: 'password', length: 40, charset: 'ascii-printable' })),
  ];
}

test('yaml: the yaml package reads every quoted value back exactly', () => {
  for (const value of values()) {
    const doc = `secret: ${quoteValue(value, 'yaml')}\n`;
    assert.equal(parse(doc).secret, value);
    assert.equal(parse(`${formatAssignment('vault_secret_key', value, 'yaml')}\n`).vault_secret_key, value);
  }
});

test('yaml: PyYAML (YAML 1.1, as Ansible) reads every quoted value back exactly', async (t) => {
  if (!requirePythonModule(t, 'yaml')) return;
  const all = values();
  const docs = all.map((v) => `secret: ${quoteValue(v, 'yaml')}\n`);
  const script = 'import json,sys,yaml\nprint(json.dumps([yaml.safe_load(d)["secret"] for d in json.load(sys.stdin)]))';
  const parsed = await runPythonJson<string[]>(script, docs);
  assert.deepEqual(parsed, all);
});

function shellRoundTrip(shell: string, items: string[]): string[] {
  // printf '%s\0' 'v1' 'v2' ... ; the script travels on stdin.
  const script = `printf '%s\\0' ${items.map((v) => quoteValue(v, 'shell')).join(' ')}\n`;
  const r = spawnSync(shell, ['-s'], { input: script, env: { PATH: '/usr/bin:/bin', HOME: '/nonexistent' } });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout.toString('utf8').split('\0').slice(0, -1);
}

test('shell: dash and bash read every single-quoted value back exactly', (t) => {
  const all = values();
  for (const shell of ['dash', 'bash']) {
    if (!requireTool(t, shell)) return;
    assert.deepEqual(shellRoundTrip(shell, all), all, shell);
  }
  assert.equal(quoteValue("it's", 'shell'), `'it'\\''s'`);
});

test('dotenv: single quotes when possible, double quotes for quote/backslash, refusal when not portable', () => {
  const django = 'a$b%c#d(e)f&g*h^i@j!k=l+m-n_o';
  assert.equal(quoteValue(django, 'dotenv'), `'${django}'`);
  assert.equal(formatAssignment('SECRET_KEY', django, 'dotenv'), `SECRET_KEY='${django}'`);
  assert.equal(quoteValue(`it's`, 'dotenv'), `"it's"`);
  assert.equal(quoteValue('a\\b"c\nd', 'dotenv'), '"a\\\\b\\"c\\nd"');
  assert.throws(() => quoteValue(`it's $5`, 'dotenv'), (e: unknown) => e instanceof VaultsmithError && e.code === 'INPUT' && !e.message.includes('$5'));
  // What the single-quoted form means to a shell sourcing the file (set -a; . ./.env) is the value itself.
  const sample = generateSecret({ kind: 'django-secret-key' });
  const r = spawnSync('bash', ['-s'], { input: `X=${quoteValue(sample, 'dotenv')}\nprintf '%s' "$X"\n`, env: { PATH: '/usr/bin:/bin' } });
  assert.equal(r.stdout.toString(), sample);
});

test('systemd: double-quoted, C escapes, % doubled; the assignment form quotes NAME=value whole', () => {
  assert.equal(quoteValue('50%off', 'systemd'), '"50%%off"');
  assert.equal(quoteValue('say "hi" \\ now', 'systemd'), '"say \\"hi\\" \\\\ now"');
  assert.equal(quoteValue('a\nb\tc\x01', 'systemd'), '"a\\nb\\tc\\x01"');
  assert.equal(quoteValue('$HOME', 'systemd'), '"$HOME"'); // Environment= does not expand $
  assert.equal(formatAssignment('SECRET_KEY', 'x%y"z', 'systemd'), 'Environment="SECRET_KEY=x%%y\\"z"');
  assert.throws(() => quoteValue('a\0b', 'systemd'), /NUL/);
});

test('invalid input: lone surrogates, bad names and unknown formats are refused', () => {
  assert.throws(() => quoteValue('\ud800', 'yaml'), /not valid Unicode/);
  assert.throws(() => formatAssignment('1BAD', 'x', 'dotenv'), /not a valid variable name/);
  assert.throws(() => formatAssignment('has space', 'x', 'yaml'), /not a valid YAML key/);
  assert.throws(() => quoteValue('x', 'toml' as 'yaml'), /unknown format/);
});

test('property: any Unicode text survives yaml (yaml package and PyYAML) and shell quoting', async (t) => {
  const samples = fc.sample(fc.string({ unit: 'binary', maxLength: 30 }), { numRuns: 400, seed: 7 });
  for (const value of samples) assert.equal(parse(`v: ${quoteValue(value, 'yaml')}\n`).v, value);
  const noNul = samples.filter((v) => !v.includes('\0'));
  if (requireTool(t, 'bash')) assert.deepEqual(shellRoundTrip('bash', noNul), noNul);
  if (!requirePythonModule(t, 'yaml')) return;
  const script = 'import json,sys,yaml\nprint(json.dumps([yaml.safe_load(d)["v"] for d in json.load(sys.stdin)]))';
  // PyYAML (YAML 1.1, as Ansible reads vars files) must give every sample back unchanged too.
  assert.deepEqual(await runPythonJson<string[]>(script, samples.map((v) => `v: ${quoteValue(v, 'yaml')}\n`)), samples);
});

/** Values no .env form can carry to every reader: see the dotenv rules in src/gen/quote.ts. */
function dotenvUnportable(value: string): boolean {
  const needsDoubleQuotes = /['\\\n\r]/.test(value);
  return value.includes('${') || (needsDoubleQuotes && (value.includes('$') || value.endsWith('\\')));
}

test('property: dotenv quoting either gives a quoted form or refuses exactly the unportable values', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme-ascii', maxLength: 40 }), (value) => {
      let quoted: string;
      try {
        quoted = quoteValue(value, 'dotenv');
      } catch (e) {
        assert.ok(e instanceof VaultsmithError && dotenvUnportable(value));
        return;
      }
      assert.ok(!dotenvUnportable(value));
      if (/['\\\n\r]/.test(value)) assert.ok(quoted.startsWith('"') && quoted.endsWith('"'));
      else assert.equal(quoted, `'${value}'`);
    }),
    { numRuns: 500 },
  );
});

test('dotenv: ${ and a trailing backslash are refused; the error names the variable, never the value', () => {
  for (const value of ['pre${HOME}post', 'plain${', 'x\'y\\', 'ends\\']) {
    assert.throws(
      () => formatAssignment('EMAIL_HOST_PASSWORD', value, 'dotenv'),
      (e: unknown) =>
        e instanceof VaultsmithError && e.code === 'INPUT' && e.message.startsWith('EMAIL_HOST_PASSWORD: value cannot be quoted portably') && !e.message.includes(value),
    );
  }
  // A lone `$` (no brace) inside single quotes is literal for python-dotenv and compose alike.
  assert.equal(quoteValue('a$HOME', 'dotenv'), "'a$HOME'");
});

/** A python3 with python-dotenv: Debian's python3-dotenv (installed by .ci/run), or one on PATH. */
function pythonWithDotenv(): string | undefined {
  for (const python of ['/usr/bin/python3', 'python3']) {
    if (spawnSync(python, ['-c', 'import dotenv'], { stdio: 'ignore' }).status === 0) return python;
  }
  return undefined;
}

test('dotenv: python-dotenv reads every accepted value back exactly', (t) => {
  const python = pythonWithDotenv();
  if (!python) {
    if (process.env.CI === 'true') throw new Error('python-dotenv is missing (CI=true: not skipping; .ci/run installs python3-dotenv)');
    process.stderr.write(`\n*** NOTICE: no python3 with python-dotenv; skipping: ${t.name} ***\n`);
    t.skip('python-dotenv not installed');
    return;
  }
  const samples = [...values(), 'x\\', 'a\\"b', "'", '"', '\\', ' #hash', 'a=b', '${HOME}', '$HOME'];
  const accepted: string[] = [];
  const lines: string[] = [];
  for (const value of samples) {
    try {
      lines.push(formatAssignment(`V${accepted.length}`, value, 'dotenv'));
      accepted.push(value);
    } catch (e) {
      assert.ok(e instanceof VaultsmithError && dotenvUnportable(value));
    }
  }
  const script = `import io, json, sys, dotenv
d = dotenv.dotenv_values(stream=io.StringIO(sys.stdin.read()))
json.dump([d.get(f"V{i}") for i in range(len(d))], sys.stdout)`;
  const r = spawnSync(python, ['-c', script], { input: `${lines.join('\n')}\n`, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent' } });
  assert.equal(r.status, 0, 'python-dotenv failed to run');
  assert.equal(r.stderr.toString(), '', 'python-dotenv warned about a line it could not parse');
  assert.deepEqual(JSON.parse(r.stdout.toString()), accepted);
});
