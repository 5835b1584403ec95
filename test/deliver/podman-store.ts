/**
 * Test helper: a private Podman secret store (temporary CONTAINERS_STORAGE_CONF with vfs graphroot /
 * runroot, private HOME and XDG dirs) and a `podman` wrapper first on PATH that records every call's
 * argv and environment before running the real podman, and can fail one `secret create` on demand.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fsp, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface IsolatedPodman {
  dir: string;
  /** Environment for vaultsmith / podman: wrapper first on PATH, isolated store. */
  env: NodeJS.ProcessEnv;
  /** Everything every `podman` call saw (argv + environment). */
  callLog(): string;
  /** Number of podman calls whose argv starts with these words, e.g. ['secret', 'create']. */
  countCalls(...words: string[]): number;
  /** Makes the next `podman secret create NAME` (for exactly this name) fail once. */
  failNextCreateOf(name: string): void;
  /** Runs the real podman (not the wrapper) against the isolated store. */
  podman(args: string[], input?: string | Buffer): string;
  /** The data Podman stored for a secret (read from the file driver's store), or undefined. */
  storedValue(name: string): Buffer | undefined;
  /** name → {id, labels} of every secret in the store. */
  secrets(): Map<string, { id: string; labels: Record<string, string> }>;
  cleanup(): Promise<void>;
}

const WRAPPER = `#!/bin/sh
{
  printf '=== argv:'
  for a in "$@"; do printf ' [%s]' "$a"; done
  printf '\\n--- env:\\n'
  env
} >> "$VAULTSMITH_TEST_PODMAN_LOG"
if [ "$1" = secret ] && [ "$2" = create ] && [ -f "$VAULTSMITH_TEST_PODMAN_FAIL" ]; then
  prev=; last=
  for a in "$@"; do prev=$last; last=$a; done
  if [ "$prev" = "$(cat "$VAULTSMITH_TEST_PODMAN_FAIL")" ]; then
    rm -f "$VAULTSMITH_TEST_PODMAN_FAIL"
    cat > /dev/null
    echo "Error: injected failure creating $prev" >&2
    exit 125
  fi
fi
exec "$VAULTSMITH_TEST_REAL_PODMAN" "$@"
`;

export async function makeIsolatedPodman(): Promise<IsolatedPodman> {
  const realPodman = execFileSync('sh', ['-c', 'command -v podman'], { encoding: 'utf8' }).trim();
  const dir = await fsp.mkdtemp(join(tmpdir(), 'vaultsmith-podman-'));
  const bin = join(dir, 'bin');
  for (const sub of ['bin', 'home', 'xdg-run', 'xdg-config', 'xdg-data']) await fsp.mkdir(join(dir, sub), { mode: 0o700 });
  await fsp.writeFile(
    join(dir, 'storage.conf'),
    `[storage]\ndriver = "vfs"\ngraphroot = "${join(dir, 'graph')}"\nrunroot = "${join(dir, 'run')}"\n`,
  );
  await fsp.writeFile(join(bin, 'podman'), WRAPPER, { mode: 0o755 });
  const logPath = join(dir, 'podman-calls.log');
  const failPath = join(dir, 'fail-create');
  await fsp.writeFile(logPath, '');
  const storeEnv: NodeJS.ProcessEnv = {
    HOME: join(dir, 'home'),
    CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'),
    XDG_RUNTIME_DIR: join(dir, 'xdg-run'),
    XDG_CONFIG_HOME: join(dir, 'xdg-config'),
    XDG_DATA_HOME: join(dir, 'xdg-data'),
  };
  const env: NodeJS.ProcessEnv = {
    ...storeEnv,
    PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    VAULTSMITH_TEST_PODMAN_LOG: logPath,
    VAULTSMITH_TEST_PODMAN_FAIL: failPath,
    VAULTSMITH_TEST_REAL_PODMAN: realPodman,
  };
  const realEnv = { ...storeEnv, PATH: process.env.PATH ?? '/usr/bin:/bin' };
  // podman insists on a FIFO for `-`; Node's child stdin is a socket, so go through `cat |`.
  const podman = (args: string[], input?: string | Buffer) =>
    input === undefined
      ? execFileSync(realPodman, args, { env: realEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      : execFileSync('sh', ['-c', 'cat | "$0" "$@"', realPodman, ...args], { env: realEnv, encoding: 'utf8', input });
  const secrets = () => {
    const names = podman(['secret', 'ls', '--noheading', '--format', '{{.Name}}']).split('\n').filter(Boolean);
    const map = new Map<string, { id: string; labels: Record<string, string> }>();
    if (names.length === 0) return map;
    const inspected = JSON.parse(podman(['secret', 'inspect', ...names])) as Array<{
      ID: string;
      Spec: { Name: string; Labels: Record<string, string> | null };
    }>;
    for (const s of inspected) map.set(s.Spec.Name, { id: s.ID, labels: s.Spec.Labels ?? {} });
    return map;
  };
  return {
    dir,
    env,
    callLog: () => readFileSync(logPath, 'utf8'),
    countCalls: (...words) => {
      const prefix = `=== argv: ${words.map((w) => `[${w}]`).join(' ')}`;
      return readFileSync(logPath, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith(prefix)).length;
    },
    failNextCreateOf: (name) => {
      execFileSync('sh', ['-c', 'printf %s "$1" > "$2"', 'sh', name, failPath]);
    },
    podman,
    storedValue: (name) => {
      const r = spawnSync(realPodman, ['secret', 'inspect', name], { env: realEnv, encoding: 'utf8' });
      if (r.status !== 0) return undefined;
      const [info] = JSON.parse(r.stdout) as Array<{ ID: string; Spec: { Driver: { Options: { path: string } } } }>;
      if (!info) return undefined;
      // The file driver keeps data base64-encoded in secretsdata.json, keyed by secret ID.
      const data = JSON.parse(readFileSync(join(info.Spec.Driver.Options.path, 'secretsdata.json'), 'utf8')) as Record<string, string>;
      const encoded = data[info.ID];
      return encoded === undefined ? undefined : Buffer.from(encoded, 'base64');
    },
    secrets,
    cleanup: () => fsp.rm(dir, { recursive: true, force: true }),
  };
}
