// Statistical check that generated characters are uniform: chi-squared over ~100k characters per
// alphabet. The threshold is loose (p ≈ 1e-8 for a fair generator, so no flakes), yet a plain
// `byte % size` generator fails it by a wide margin, which the control below proves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { CHARSETS, DJANGO_SECRET_KEY_CHARS, generateSecret } from '../../src/gen/index.js';

function chiSquared(samples: string[], alphabet: string): number {
  const counts = new Map<string, number>([...alphabet].map((c) => [c, 0]));
  let total = 0;
  for (const s of samples) {
    for (const c of s) {
      const n = counts.get(c);
      assert.ok(n !== undefined, 'character outside the alphabet');
      counts.set(c, n + 1);
      total++;
    }
  }
  const expected = total / alphabet.length;
  let sum = 0;
  for (const n of counts.values()) sum += (n - expected) ** 2 / expected;
  return sum;
}

/** Upper bound for a fair generator: Wilson-Hilferty quantile at z = 5.6 (p ≈ 1e-8). */
function threshold(degreesOfFreedom: number): number {
  const k = degreesOfFreedom;
  const z = 5.6;
  return k * (1 - 2 / (9 * k) + z * Math.sqrt(2 / (9 * k))) ** 3;
}

/** The classic mistake, for the control: each byte reduced modulo the alphabet size. */
function moduloBiasedString(length: number, alphabet: string): string {
  return [...randomBytes(length)].map((b) => alphabet[b % alphabet.length]).join('');
}

const cases = [
  { name: 'django-secret-key', alphabet: DJANGO_SECRET_KEY_CHARS, make: () => generateSecret({ kind: 'django-secret-key' }), perValue: 50 },
  { name: 'password alnum', alphabet: CHARSETS.alnum!, make: () => generateSecret({ kind: 'password', length: 50 }), perValue: 50 },
  {
    name: 'password ascii-printable',
    alphabet: CHARSETS['ascii-printable']!,
    make: () => generateSecret({ kind: 'password', length: 50, charset: 'ascii-printable' }),
    perValue: 50,
  },
];

const VALUES = 2000; // 100,000 characters per alphabet

for (const c of cases) {
  test(`${c.name}: no character favoured (chi-squared over ${VALUES * c.perValue} characters)`, () => {
    const samples = Array.from({ length: VALUES }, c.make);
    const limit = threshold(c.alphabet.length - 1);
    const fair = chiSquared(samples, c.alphabet);
    assert.ok(fair < limit, `chi-squared ${fair.toFixed(1)} exceeds ${limit.toFixed(1)}`);
    // Control: the same test catches modulo bias, so passing above means something.
    const biased = chiSquared(Array.from({ length: VALUES }, () => moduloBiasedString(c.perValue, c.alphabet)), c.alphabet);
    assert.ok(biased > limit, `control: modulo-biased chi-squared ${biased.toFixed(1)} should exceed ${limit.toFixed(1)}`);
  });
}

test('django-secret-key: every position is uniform too (first character over 4000 keys)', () => {
  const firsts = Array.from({ length: 4000 }, () => generateSecret({ kind: 'django-secret-key' })[0]!);
  const value = chiSquared(firsts, DJANGO_SECRET_KEY_CHARS);
  assert.ok(value < threshold(49), `chi-squared ${value.toFixed(1)}`);
});
