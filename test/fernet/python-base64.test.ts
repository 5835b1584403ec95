// Python's lenient base64 (what decides whether cryptography.fernet accepts a key or token) against
// our reproduction: random strings over the characters that matter, all checked in one Python run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { pythonUrlsafeB64decode, urlsafeB64encode } from '../../src/fernet/python-base64.js';
import { requirePythonModule, runPythonJson } from '../helpers/python.js';

const TRICKY_CHARS = ['A', 'B', 'g', 'z', '0', '9', '-', '_', '+', '/', '=', '=', '%', ' ', '\n', '.', 'é'];

test('decodes exactly what Python decodes and refuses what Python refuses', async (t) => {
  if (!requirePythonModule(t, 'base64')) return;
  const inputs = fc.sample(
    fc.array(fc.constantFrom(...TRICKY_CHARS), { minLength: 0, maxLength: 14 }).map((chars) => chars.join('')),
    { numRuns: 3000, seed: 20240501 },
  );
  const script = [
    'import base64, json, sys',
    'out = []',
    'for s in json.load(sys.stdin):',
    '    try: out.append(base64.urlsafe_b64decode(s).hex())',
    '    except ValueError: out.append(None)',
    'print(json.dumps(out))',
  ].join('\n');
  const expected = await runPythonJson<(string | null)[]>(script, inputs);
  let refused = 0;
  inputs.forEach((input, i) => {
    const got = pythonUrlsafeB64decode(input);
    if (expected[i] === null) refused++;
    assert.equal(got === null ? null : got.toString('hex'), expected[i], JSON.stringify(input));
  });
  assert.ok(refused > 300 && refused < inputs.length - 300, `refused ${refused}`);
});

test('round trip with the canonical url-safe encoding, for any bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
      const text = urlsafeB64encode(bytes);
      assert.match(text, /^[A-Za-z0-9_-]*={0,2}$/);
      assert.deepEqual(pythonUrlsafeB64decode(text), Buffer.from(bytes));
      assert.deepEqual(pythonUrlsafeB64decode(Buffer.from(text)), Buffer.from(bytes));
    }),
    { numRuns: 300 },
  );
});
