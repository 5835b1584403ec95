import { promises as fsp, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Prefers tmpfs (/dev/shm) so plaintext never reaches a disk. */
export function privateTmpRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.VAULTSMITH_TMPDIR) return env.VAULTSMITH_TMPDIR;
  if (existsSync('/dev/shm')) return '/dev/shm';
  return tmpdir();
}

/** Creates a 0700 directory for plaintext temp files; the caller must call `cleanup` in finally. */
export async function makePrivateDir(env?: NodeJS.ProcessEnv): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await fsp.mkdtemp(join(privateTmpRoot(env), 'vaultsmith-'));
  await fsp.chmod(dir, 0o700);
  return { dir, cleanup: () => removePrivateDir(dir) };
}

/** Overwrites every file with zeros before removing the directory. */
export async function removePrivateDir(dir: string): Promise<void> {
  let names: string[] = [];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const p = join(dir, name);
    try {
      const st = await fsp.lstat(p);
      if (st.isFile() && st.size > 0) {
        const fh = await fsp.open(p, 'r+');
        try {
          await fh.write(Buffer.alloc(st.size), 0, st.size, 0);
          await fh.sync();
        } finally {
          await fh.close();
        }
      }
    } catch {
      // best effort; removal below still happens
    }
  }
  await fsp.rm(dir, { recursive: true, force: true });
}
