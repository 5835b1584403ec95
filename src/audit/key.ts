import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import { VaultsmithError } from '../errors.js';
import { safeWrite } from '../internal/safe-write.js';

/**
 * The audit key seals the chain (HMAC-SHA256). It is 32 random bytes in a 0600 file outside the
 * repository (like a vault password file), so someone who can write the log but lacks the key cannot
 * forge, edit or insert events. Teams sharing a PostgreSQL sink share this file the way they share
 * vault passwords.
 */
export async function loadAuditKey(keyFile: string, options: { create: boolean }): Promise<Buffer> {
  let text: string;
  try {
    const st = await fsp.stat(keyFile);
    if ((st.mode & 0o077) !== 0) {
      throw new VaultsmithError('AUDIT', `the audit key file ${keyFile} is readable or writable by group/others`, {
        hint: `chmod 600 ${keyFile}`,
      });
    }
    text = await fsp.readFile(keyFile, 'utf8');
  } catch (e) {
    if (e instanceof VaultsmithError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' || !options.create) {
      throw new VaultsmithError('AUDIT', `cannot read the audit key file ${keyFile}: ${code ?? String(e)}`, {
        hint: code === 'ENOENT' ? 'it is created by the first audited command' : undefined,
      });
    }
    return createAuditKey(keyFile);
  }
  const hex = text.trim();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new VaultsmithError('AUDIT', `the audit key file ${keyFile} is malformed (expected 64 hex digits)`);
  }
  return Buffer.from(hex, 'hex');
}

async function createAuditKey(keyFile: string): Promise<Buffer> {
  const key = randomBytes(32);
  try {
    await fsp.mkdir(dirname(keyFile), { recursive: true, mode: 0o700 });
    await safeWrite(keyFile, `${key.toString('hex')}\n`, { mode: 0o600, exclusive: true });
  } catch (e) {
    // Another process may have created it first; then use theirs.
    try {
      return Buffer.from((await fsp.readFile(keyFile, 'utf8')).trim(), 'hex');
    } catch {
      throw new VaultsmithError('AUDIT', `cannot create the audit key file ${keyFile}`, { cause: e });
    }
  }
  return key;
}
