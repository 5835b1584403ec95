/**
 * `vaultsmith check`: opens each environment's vault and checks it against the manifest, plus the
 * password files on disk. Returns findings (keys and reasons, never values).
 */
import { promises as fsp } from 'node:fs';
import { homedir } from 'node:os';
import { VaultsmithError } from '../errors.js';
import { checkEnvironmentValues, checkSharedValues, type Finding } from '../manifest/check.js';
import { locateEnvironment, openEnvironment, type EnvironmentContext, type EnvironmentLocation } from '../manifest/environment.js';
import type { LoadedManifest } from '../manifest/loader.js';
import { assertEnvironment } from '../manifest/resolve.js';
import { wipeSecrets } from '../secrets/index.js';
import { findRepositoryRoot, isIgnored, isInside } from './repository.js';

export type { Finding, FindingKind, Severity } from '../manifest/check.js';

export interface CheckResult {
  environments: string[];
  findings: Finding[];
  errors: number;
  warnings: number;
}

/** Shows a password path with `~` for the home directory: shorter, and no user names in CI logs. */
export function displayPath(path: string, env: NodeJS.ProcessEnv): string {
  const home = env.HOME || homedir();
  return home && path.startsWith(`${home}/`) ? `~${path.slice(home.length)}` : path;
}

async function checkPasswordFile(loaded: LoadedManifest, location: EnvironmentLocation, env: NodeJS.ProcessEnv): Promise<Finding[]> {
  const path = location.passwordPath;
  if (path === null) return [];
  const shown = displayPath(path, env);
  const finding = (kind: Finding['kind'], message: string): Finding => ({ env: location.name, key: shown, kind, severity: 'error', message });
  let st: import('node:fs').Stats;
  try {
    st = await fsp.stat(path);
  } catch {
    return [finding('password-file-missing', 'password file does not exist')];
  }
  const findings: Finding[] = [];
  const executable = (st.mode & 0o111) !== 0;
  // A script may be world-readable (it holds no password); anyone able to change it gets the password.
  const loose = executable ? st.mode & 0o022 : st.mode & 0o077;
  if (loose) {
    const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
    findings.push(
      finding(
        'password-file-permissions',
        `password ${executable ? 'script is writable' : 'file is readable'} by group or others (mode ${mode}); run chmod ${executable ? '700' : '600'} ${shown}`,
      ),
    );
  }
  const root = findRepositoryRoot(loaded.dir);
  if (isInside(root, path) && !(await isIgnored(root, path))) {
    findings.push(finding('password-file-in-repository', `password file is inside the repository ${root} and not ignored by git`));
  }
  return findings;
}

/** Checks the named environments (default: all) and the values shared between them. */
export async function checkProject(loaded: LoadedManifest, envNames: string[], ctx: EnvironmentContext): Promise<CheckResult> {
  const names = envNames.length ? envNames : Object.keys(loaded.manifest.environments);
  names.forEach((n) => assertEnvironment(loaded.manifest, n));
  const findings: Finding[] = [];
  const valuesByEnv = new Map<string, Record<string, unknown>>();
  for (const name of names) {
    const location = locateEnvironment(loaded, name, ctx.env);
    findings.push(...(await checkPasswordFile(loaded, location, ctx.env)));
    let opened;
    try {
      opened = await openEnvironment(loaded, name, ctx);
    } catch (e) {
      if (!(e instanceof VaultsmithError)) throw e;
      findings.push({ env: name, key: displayPath(location.vaultPath, ctx.env), kind: 'vault-unreadable', severity: 'error', message: e.message });
      continue;
    }
    wipeSecrets(opened.secrets);
    if (opened.header.label !== null && opened.header.label !== location.label) {
      findings.push({
        env: name,
        key: displayPath(location.vaultPath, ctx.env),
        kind: 'label-mismatch',
        severity: 'error',
        message: `vault is labelled '${opened.header.label}' but the manifest's vault id says '${location.label}'`,
      });
    }
    valuesByEnv.set(name, opened.values);
    findings.push(...checkEnvironmentValues(loaded.manifest, name, opened.values));
  }
  findings.push(...checkSharedValues(loaded.manifest, valuesByEnv));
  const order = new Map(names.map((n, i) => [n, i]));
  findings.sort((a, b) => (order.get(a.env) ?? 0) - (order.get(b.env) ?? 0));
  const errors = findings.filter((f) => f.severity === 'error').length;
  return { environments: names, findings, errors, warnings: findings.length - errors };
}
