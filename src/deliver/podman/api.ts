import { request } from 'node:http';
import { VaultsmithError } from '../../errors.js';
import { parseInspectOutput } from './cli.js';
import type { CreateSecretOptions, ExistingPodmanSecret, PodmanSecretBackend } from './types.js';

/** 4.0.0 is the oldest libpod API version Podman 4.x and 5.x serve, so every server accepts it. */
const API_PREFIX = '/v4.0.0/libpod';

/** `unix:///run/user/1000/podman/podman.sock` → the socket path. Only unix sockets: no TLS, no TCP. */
export function parsePodmanSocketUrl(url: string): string {
  const match = /^unix:\/\/(\/.+)$/.exec(url);
  if (!match?.[1]) {
    throw new VaultsmithError('USAGE', `unsupported Podman service URL '${url}'`, {
      hint: 'use unix:///path/to/podman.sock (start one with: podman system service --time=60 unix:///path/podman.sock)',
    });
  }
  return match[1];
}

interface ApiResponse {
  status: number;
  body: string;
}

/** True when `version` (e.g. `4.3.1`, `5.0.0-dev`) is at least `major.minor`. */
export function versionAtLeast(version: string, major: number, minor: number): boolean {
  const [maj = 0, min = 0] = version.split(/[.-]/).map((p) => Number.parseInt(p, 10) || 0);
  return maj > major || (maj === major && min >= minor);
}

/**
 * Talks to `podman system service` over its unix socket (libpod REST API), so no podman CLI is
 * needed on the machine running vaultsmith. Secret data travels only in request bodies.
 */
export class PodmanApiBackend implements PodmanSecretBackend {
  readonly description: string;
  private readonly socketPath: string;
  private readonly timeoutMs: number;
  private replaceSupport: Promise<boolean> | undefined;

  constructor(options: { url: string; timeoutMs?: number }) {
    this.socketPath = parsePodmanSocketUrl(options.url);
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.description = `libpod API at ${options.url}`;
  }

  private call(method: string, path: string, body?: Uint8Array): Promise<ApiResponse> {
    return new Promise((resolve, reject) => {
      // No keep-alive: an idle pooled connection would hold the service (and our process) open.
      const headers: Record<string, string | number> = { Host: 'd', Connection: 'close' };
      if (body) {
        // octet-stream: anything else (curl's form default) makes the server parse and eat the body.
        headers['Content-Type'] = 'application/octet-stream';
        headers['Content-Length'] = body.length;
      }
      const options = { socketPath: this.socketPath, path: API_PREFIX + path, method, headers, timeout: this.timeoutMs, agent: false };
      const req = request(options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', (e: NodeJS.ErrnoException) => {
        const reason = e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? 'no Podman service listening' : e.message;
        reject(new VaultsmithError('EXTERNAL', `cannot reach the Podman service at unix://${this.socketPath}: ${reason}`, { cause: e }));
      });
      req.end(body ? Buffer.from(body) : undefined);
    });
  }

  private async callOk(what: string, method: string, path: string, body?: Uint8Array): Promise<string> {
    const res = await this.call(method, path, body);
    if (res.status >= 200 && res.status < 300) return res.body;
    let reason = res.body.trim();
    try {
      const parsed = JSON.parse(res.body) as { message?: string; cause?: string };
      reason = parsed.message ?? parsed.cause ?? reason;
    } catch {
      // not JSON: keep the raw text
    }
    throw new VaultsmithError('EXTERNAL', `${what} failed (HTTP ${res.status}): ${reason.split('\n')[0]}`);
  }

  supportsReplace(): Promise<boolean> {
    // The `replace` parameter of secrets/create arrived with Podman 4.7.
    this.replaceSupport ??= this.callOk('libpod version', 'GET', '/version').then(
      (body) => {
        const version = (JSON.parse(body) as { Version?: string }).Version ?? '0';
        return versionAtLeast(version, 4, 7);
      },
      () => false,
    );
    return this.replaceSupport;
  }

  async list(): Promise<ExistingPodmanSecret[]> {
    const listed = parseInspectOutput(await this.callOk('list podman secrets', 'GET', '/secrets/json'));
    // The 4.3 list endpoint returns Labels: null; inspect each secret for its labels.
    const result: ExistingPodmanSecret[] = [];
    for (const secret of listed) {
      if (Object.keys(secret.labels).length > 0) {
        result.push(secret);
        continue;
      }
      const body = await this.callOk(`inspect podman secret ${secret.name}`, 'GET', `/secrets/${encodeURIComponent(secret.id)}/json`);
      result.push(...parseInspectOutput(body));
    }
    return result;
  }

  async create(name: string, data: Uint8Array, labels: Record<string, string>, options: CreateSecretOptions = {}): Promise<void> {
    const query = new URLSearchParams({ name, labels: JSON.stringify(labels) });
    if (options.replace) query.set('replace', 'true');
    await this.callOk(`create podman secret ${name}`, 'POST', `/secrets/create?${query.toString()}`, data);
  }

  async remove(name: string): Promise<void> {
    await this.callOk(`remove podman secret ${name}`, 'DELETE', `/secrets/${encodeURIComponent(name)}`);
  }
}
