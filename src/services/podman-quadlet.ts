/**
 * `vaultsmith podman quadlet ENV --service S`: the Quadlet drop-in naming the Podman secrets a service
 * gets. It lists exactly what `podman sync` delivers for that environment (optional variables with
 * no value are left out, as sync leaves them out), so it opens the environment like sync does.
 */
import { promises as fsp } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type PodmanSecretBinding, quadletDropInPath, renderQuadletDropIn } from '../deliver/quadlet.js';
import { VaultsmithError } from '../errors.js';
import { ioError, safeWrite } from '../internal/safe-write.js';
import { withAudit } from '../audit/index.js';
import { type EnvironmentContext, loadManifest, openEnvironment, renderVariables } from '../manifest/index.js';
import { wipeSecrets } from '../secrets/index.js';

export interface PodmanQuadletRequest {
  environment: string;
  service: string;
  manifestPath?: string;
  /** The Quadlet directory (e.g. ~/.config/containers/systemd); without it nothing is written. */
  writeDir?: string;
}

export interface PodmanQuadletResult {
  environment: string;
  service: string;
  unit: string;
  lines: string[];
  content: string;
  /** Where the drop-in goes (when writeDir was given). */
  path: string | null;
  /** `written`, `unchanged` (same content already there) or `not-written` (no writeDir). */
  status: 'written' | 'unchanged' | 'not-written';
}

export async function podmanQuadlet(request: PodmanQuadletRequest, ctx: EnvironmentContext): Promise<PodmanQuadletResult> {
  const loaded = await loadManifest({ cwd: ctx.cwd, ...(request.manifestPath ? { path: request.manifestPath } : {}) });
  // The vault is opened (to render the service's variables), so the access is audited like
  // `podman sync --dry-run`, although only secret names come out.
  const bindings = await withAudit(
    ctx,
    { command: 'podman quadlet', env: request.environment },
    async (note) => {
      const opened = await openEnvironment(loaded, request.environment, ctx);
      try {
        note.set({ file: opened.vaultPath, label: opened.header.label ?? opened.label });
        const found: PodmanSecretBinding[] = renderVariables(loaded, request.environment, opened.values, { service: request.service }).flatMap((v) =>
          v.podman ? [v.podman] : [],
        );
        note.set({ secrets: found.map((b) => b.secret) });
        return found;
      } finally {
        wipeSecrets(opened.secrets);
      }
    },
    request.manifestPath ? { manifestPath: request.manifestPath } : {},
  );
  if (bindings.length === 0) {
    throw new VaultsmithError('MANIFEST', `no variable of service '${request.service}' names a podman secret in ${loaded.path}`, {
      hint: 'add podman: { secret: NAME } to the variables the service should get as Podman secrets',
    });
  }
  const unit = loaded.manifest.services?.[request.service]?.unit ?? `${request.service}.container`;
  const content = renderQuadletDropIn({ unit, environment: request.environment, service: request.service, bindings });
  const lines = content.split('\n').filter((l) => l.startsWith('Secret='));
  const result: PodmanQuadletResult = {
    environment: request.environment,
    service: request.service,
    unit,
    lines,
    content,
    path: null,
    status: 'not-written',
  };
  if (request.writeDir === undefined) return result;
  const path = quadletDropInPath(resolve(ctx.cwd, request.writeDir), unit);
  result.path = path;
  const current = await fsp.readFile(path, 'utf8').catch(() => undefined);
  if (current === content) {
    result.status = 'unchanged';
    return result;
  }
  await fsp.mkdir(dirname(path), { recursive: true, mode: 0o755 }).catch((e: unknown) => {
    throw ioError('cannot create', dirname(path), e);
  });
  // Unit files are not secret (names only) and systemd's generator must read them: 0644.
  await safeWrite(path, content, { mode: 0o644 });
  result.status = 'written';
  return result;
}
