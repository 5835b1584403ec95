import { promises as fsp } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { VaultsmithError } from '../errors.js';
import { safeWrite } from '../internal/safe-write.js';
import { gitConfigGet, runGit, type GitContext } from './plumbing.js';

/** What `vaultsmith git install` sets up; each step reports whether it changed anything. */
export interface InstallStep {
  what: string;
  changed: boolean;
}

export interface InstallOptions {
  /** How git should invoke vaultsmith (default `vaultsmith`); e.g. `npx vaultsmith`. */
  command?: string;
  /** Paths (relative to the repository top) of vault files to route through the drivers. */
  vaultPaths: string[];
  /** Extra .gitattributes patterns (e.g. `**\/vault.yml`). */
  patterns?: string[];
}

export const DRIVER_NAME = 'vaultsmith';
const HOOK_START = '# >>> vaultsmith pre-commit >>>';
const HOOK_END = '# <<< vaultsmith pre-commit <<<';

export function hookBlock(command: string): string {
  return [
    HOOK_START,
    "# Blocks commits that add plaintext secrets (installed by 'vaultsmith git install').",
    `${command} scan --staged --quiet || { echo "vaultsmith: commit blocked (see findings above; bypass only with git commit --no-verify)" >&2; exit 1; }`,
    HOOK_END,
  ].join('\n');
}

/** Adds or replaces our block, leaving any other hook content alone. */
export function mergeHook(existing: string | null, command: string): string {
  const block = hookBlock(command);
  if (existing === null || existing.trim() === '') return `#!/bin/sh\n${block}\n`;
  const start = existing.indexOf(HOOK_START);
  const end = existing.indexOf(HOOK_END);
  if (start !== -1 && end > start) return `${existing.slice(0, start)}${block}${existing.slice(end + HOOK_END.length)}`;
  return `${existing.replace(/\n?$/, '\n')}${block}\n`;
}

function attributeLine(pattern: string): string {
  const escaped = pattern.replace(/ /g, '[[:space:]]');
  return `${escaped} diff=${DRIVER_NAME} merge=${DRIVER_NAME}`;
}

export function mergeGitattributes(existing: string | null, patterns: string[]): string {
  const text = existing ?? '';
  const present = new Set(text.split('\n').map((l) => l.trim()));
  const missing = patterns.map(attributeLine).filter((l) => !present.has(l));
  if (missing.length === 0) return text;
  const header = present.has('# vaultsmith: vault files diff and merge decrypted') ? [] : ['# vaultsmith: vault files diff and merge decrypted'];
  return `${text === '' || text.endsWith('\n') ? text : `${text}\n`}${[...header, ...missing].join('\n')}\n`;
}

async function readOrNull(path: string): Promise<string | null> {
  try {
    return await fsp.readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

async function setConfig(ctx: GitContext, key: string, value: string): Promise<boolean> {
  if ((await gitConfigGet(ctx, key)) === value) return false;
  await runGit(ctx, ['config', '--local', key, value]);
  return true;
}

/** Idempotent: running it twice changes nothing the second time. */
export async function installGitIntegration(root: string, env: NodeJS.ProcessEnv, options: InstallOptions): Promise<InstallStep[]> {
  const ctx = { cwd: root, env };
  const command = options.command?.trim() || 'vaultsmith';
  const steps: InstallStep[] = [];
  // Checked before anything is written: a refused install leaves the repository as it was.
  const patterns = [...options.vaultPaths, ...(options.patterns ?? [])];
  if (patterns.length === 0) {
    throw new VaultsmithError('USAGE', 'no vault files to set up: the manifest lists no environments and no --pattern was given');
  }

  const hooksRel = (await runGit(ctx, ['rev-parse', '--git-path', 'hooks'])).stdout.toString('utf8').trim();
  const hooksDir = isAbsolute(hooksRel) ? hooksRel : resolve(root, hooksRel);
  await fsp.mkdir(hooksDir, { recursive: true });
  const hookPath = join(hooksDir, 'pre-commit');
  const existingHook = await readOrNull(hookPath);
  const hook = mergeHook(existingHook, command);
  if (hook !== existingHook) await safeWrite(hookPath, hook, { mode: 0o755 });
  await fsp.chmod(hookPath, 0o755);
  steps.push({ what: `pre-commit hook ${relative(root, hookPath).split(sep).join('/')} runs 'scan --staged'`, changed: hook !== existingHook });

  const attributesPath = join(root, '.gitattributes');
  const existingAttributes = await readOrNull(attributesPath);
  const attributes = mergeGitattributes(existingAttributes, patterns);
  if (attributes !== (existingAttributes ?? '')) await safeWrite(attributesPath, attributes, { mode: 0o644 });
  steps.push({ what: `.gitattributes routes ${patterns.join(', ')} through the ${DRIVER_NAME} diff and merge drivers`, changed: attributes !== (existingAttributes ?? '') });

  const configs: Array<[string, string]> = [
    [`diff.${DRIVER_NAME}.textconv`, `${command} git textconv`],
    // Cached textconv output would be stored in git notes: that is decrypted data at rest.
    [`diff.${DRIVER_NAME}.cachetextconv`, 'false'],
    [`merge.${DRIVER_NAME}.name`, 'vaultsmith: three-way merge of decrypted vault YAML by key'],
    [`merge.${DRIVER_NAME}.driver`, `${command} git merge-driver %O %A %B %P`],
  ];
  for (const [key, value] of configs) {
    steps.push({ what: `git config ${key}`, changed: await setConfig(ctx, key, value) });
  }
  return steps;
}
