import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

// Kept apart from the loader (and its schema library) so commands that only need to know whether
// a manifest exists, such as the audit trail of every vault command, start fast.
export const MANIFEST_FILE_NAMES = ['vaultsmith.yaml', 'vaultsmith.yml'] as const;

/** Searches `cwd` and its parents for vaultsmith.yaml; null when there is none. */
export function findManifest(cwd: string): string | null {
  let dir = resolve(cwd);
  for (;;) {
    for (const name of MANIFEST_FILE_NAMES) {
      const candidate = join(dir, name);
      try {
        if (statSync(candidate).isFile()) return candidate;
      } catch {
        // not here; keep climbing
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}
