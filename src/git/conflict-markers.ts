/** Git merge conflict markers in decrypted vault text (no dependencies: view loads this at start-up). */

export const CONFLICT_START = '<<<<<<<';
export const CONFLICT_BASE = '|||||||';
export const CONFLICT_SEPARATOR = '=======';
export const CONFLICT_END = '>>>>>>>';

/** 1-based lines holding merge conflict markers; `check` and `view` report a vault with any. */
export function findConflictMarkers(plaintext: string): number[] {
  const lines: number[] = [];
  plaintext.split('\n').forEach((line, i) => {
    if (line.startsWith(`${CONFLICT_START} `) || line === CONFLICT_SEPARATOR || line.startsWith(`${CONFLICT_END} `) || line.startsWith(`${CONFLICT_BASE} `)) {
      lines.push(i + 1);
    }
  });
  return lines;
}
