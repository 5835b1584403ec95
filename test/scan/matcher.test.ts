import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { AhoCorasick } from '../../src/scan/aho-corasick.js';
import { SecretMatcher, base64Cores } from '../../src/scan/matcher.js';

function naive(patterns: Buffer[], text: Buffer): string[] {
  const found: string[] = [];
  patterns.forEach((p, id) => {
    for (let i = text.indexOf(p); i !== -1; i = text.indexOf(p, i + 1)) found.push(`${id}@${i}`);
  });
  return found.sort();
}

test('Aho-Corasick finds exactly what a naive search finds (property, small alphabet for overlaps)', () => {
  const word = fc.string({ unit: fc.constantFrom('a', 'b', 'c', '\n'), minLength: 1, maxLength: 6 });
  fc.assert(
    fc.property(fc.array(word, { minLength: 1, maxLength: 8 }), fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'd', '\n'), maxLength: 200 }), (words, text) => {
      const patterns = words.map((w) => Buffer.from(w));
      const ac = new AhoCorasick(patterns);
      const got: string[] = [];
      ac.scan(Buffer.from(text), (id, start) => got.push(`${id}@${start}`));
      assert.deepEqual(got.sort(), naive(patterns, Buffer.from(text)));
      assert.equal(ac.test(Buffer.from(text)), got.length > 0);
    }),
    { numRuns: 300 },
  );
});

test('a secret is found plain, in base64 at every alignment, URL-encoded and JSON-escaped, with its line', () => {
  const value = `${randomBytes(12).toString('base64')}/+ "q"&x`;
  const matcher = new SecretMatcher([{ name: 'db_password', value, environment: 'production' }]);
  const cases: Array<[string, string]> = [
    ['plain', `line one\nDB=${value}\n`],
    ['base64', `a\nb\nAuthorization: Basic ${Buffer.from(`user:${value}`).toString('base64')}\n`],
    ['base64', Buffer.from(`x${value}`).toString('base64')],
    ['base64', Buffer.from(`xy${value}`).toString('base64')],
    ['base64url', Buffer.from(`xy${value}`).toString('base64url')],
    ['url', `postgres://u:${encodeURIComponent(value)}@db/x`],
    ['url', `postgres://u:${encodeURIComponent(value).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase())}@db/x`],
    ['json', JSON.stringify({ password: value })],
  ];
  for (const [encoding, text] of cases) {
    const matches = matcher.find(Buffer.from(text));
    // a URL-safe core without + or / is the same text as the standard one
    assert.ok(matches.some((m) => (encoding === 'base64url' ? ['base64url', 'base64'] : [encoding]).includes(m.encoding) && m.names.includes('db_password')), `${encoding} in ${encoding === 'plain' ? 'text' : 'encoded text'}`);
  }
  assert.equal(matcher.find(Buffer.from(cases[0]![1])).find((m) => m.encoding === 'plain')!.line, 2);
  assert.equal(matcher.find(Buffer.from(cases[1]![1]))[0]!.line, 3);
  assert.deepEqual(matcher.find(Buffer.from('nothing to see here\n'.repeat(100))), []);
});

test('short values are ignored and base64 cores are long enough to be specific', () => {
  const matcher = new SecretMatcher([{ name: 'port', value: '5432' }]);
  assert.equal(matcher.empty, true);
  for (const core of base64Cores(Buffer.from('abcdefghijkl'))) assert.ok(core.length >= 8);
});
