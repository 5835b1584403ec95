// Property tests (fast-check, modest run counts): decrypt∘encrypt = id, and no single-byte change
// to a vault ever yields a different plaintext.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { VaultsmithError } from '../../src/errors.js';
import { decryptVault, encryptVault } from '../../src/vault/index.js';

test('decryptVault(encryptVault(x)) = x for any bytes, password and label', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ maxLength: 200 }),
      fc.uint8Array({ minLength: 1, maxLength: 40 }),
      fc.option(fc.stringMatching(/^[A-Za-z0-9_.@-]{1,16}$/)),
      async (plaintext, password, label) => {
        const secret = { label: label ?? 'default', password: Buffer.from(password) };
        const text = await encryptVault(plaintext, secret, { label });
        assert.ok(text.split('\n').slice(1, -1).every((l) => l.length > 0 && l.length <= 80));
        const result = await decryptVault(text, [secret]);
        assert.ok(result.plaintext.equals(Buffer.from(plaintext)));
        assert.equal(result.header.label, label === 'default' ? null : label);
      },
    ),
    { numRuns: 40 },
  );
});

/** The inner payload (outer hex decoded), lower-cased: what remains once hex case is ignored. */
function innerIgnoringCase(text: string): string {
  const body = text.slice(text.indexOf('\n') + 1).replace(/[\r\n]/g, '');
  return Buffer.from(body, 'hex').toString('latin1').toLowerCase();
}

/**
 * A flip may only be accepted where the format itself is not authenticated or is lenient, exactly as
 * in Ansible: the header line (label, 1.1 ↔ 1.2), a line-break character, or the case of a hex
 * letter — in the outer hex, or in the inner hex ("61" 'a' → "41" 'A').
 */
function isToleratedFlip(original: string, index: number, flipped: number): boolean {
  if (index < original.indexOf('\n')) return true;
  const before = original.charCodeAt(index);
  const isLineBreak = (c: number) => c === 0x0a || c === 0x0d;
  if (isLineBreak(before) && isLineBreak(flipped)) return true;
  const changed = original.slice(0, index) + String.fromCharCode(flipped) + original.slice(index + 1);
  return innerIgnoringCase(changed) === innerIgnoringCase(original);
}

test('any single byte flip is rejected, or accepted only where Ansible is lenient — never a different plaintext', async () => {
  const secret = { label: 'default', password: Buffer.from('flip-test-password') };
  const plaintext = Buffer.from('top secret: 42\n');
  const text = await encryptVault(plaintext, secret);
  await fc.assert(
    fc.asyncProperty(fc.nat({ max: text.length - 1 }), fc.integer({ min: 1, max: 255 }), async (index, mask) => {
      const bytes = Buffer.from(text, 'latin1');
      bytes[index] = bytes[index]! ^ mask;
      try {
        const result = await decryptVault(bytes, [secret]);
        assert.ok(result.plaintext.equals(plaintext), 'a flipped vault must never decrypt to something else');
        assert.ok(isToleratedFlip(text, index, bytes[index]!), `flip at ${index} (mask ${mask}) was accepted`);
      } catch (e) {
        assert.ok(e instanceof VaultsmithError, `unexpected ${String(e)}`);
        assert.ok(['VAULT_FORMAT', 'DECRYPT_FAILED', 'NOT_ENCRYPTED'].includes(e.code), e.code);
      }
    }),
    { numRuns: 150 },
  );
});
