import { createHash, createHmac, pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { VaultsmithError } from '../errors.js';

const pbkdf2Async = promisify(pbkdf2);

export const SCRAM_ITERATIONS = 4096;
export const SCRAM_SALT_BYTES = 16;

/**
 * PostgreSQL's stored form of a SCRAM-SHA-256 password (RFC 5802 / RFC 7677), computed on the client
 * as psql's `\password` does, so the plaintext never reaches the server or its log:
 * `SCRAM-SHA-256$<iterations>:<b64 salt>$<b64 StoredKey>:<b64 ServerKey>`.
 *
 * SASLprep: for an ASCII password PostgreSQL uses the bytes unchanged (printable ASCII is left alone by
 * SASLprep; a control character makes SASLprep fail, and PostgreSQL then falls back to the raw bytes).
 * Non-ASCII needs full SASLprep (NFKC plus mapping tables), which we do not implement, so we refuse it
 * rather than store a verifier that might not match what the server computes at login.
 */
export async function scramSha256Verifier(
  password: string,
  options: { salt?: Uint8Array; iterations?: number } = {},
): Promise<string> {
  // eslint-disable-next-line no-control-regex
  if (!/^[\x00-\x7f]*$/.test(password)) {
    throw new VaultsmithError('INPUT', 'SCRAM verifier: only ASCII passwords are supported (no SASLprep)', {
      hint: 'generate database passwords with an ASCII charset',
    });
  }
  const salt = Buffer.from(options.salt ?? randomBytes(SCRAM_SALT_BYTES));
  const iterations = options.iterations ?? SCRAM_ITERATIONS;
  const saltedPassword = await pbkdf2Async(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', saltedPassword).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', saltedPassword).update('Server Key').digest();
  saltedPassword.fill(0);
  clientKey.fill(0);
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

const VERIFIER_SHAPE = /^SCRAM-SHA-256\$\d+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/;

/** True for a well-formed verifier; also what makes it safe to embed as a SQL literal. */
export function isScramVerifier(value: string): boolean {
  return VERIFIER_SHAPE.test(value);
}
