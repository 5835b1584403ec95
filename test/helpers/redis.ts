import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './postgres.js';

export interface StartedRedis {
  host: string;
  port: number;
  /** The ACL file the server loads and `ACL SAVE` writes (absent with useAclFile: false). */
  aclFile: string;
  /** The server's config file (CONFIG REWRITE target). */
  confFile: string;
  dir: string;
  stop(): Promise<void>;
}

export interface StartRedisOptions {
  /** Initial ACL lines (e.g. `user default on #<sha256> ~* &* +@all`); default: `default` user with nopass. */
  aclLines?: string[];
  /** false: no aclfile; the ACL lines go into redis.conf (persisted by CONFIG REWRITE). Default true. */
  useAclFile?: boolean;
}

function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`redis did not listen on ${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/** Starts a throw-away Redis 7 on 127.0.0.1:<free port>, no persistence, ACLs from a temp file. */
export async function startRedis(options: StartRedisOptions = {}): Promise<StartedRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'vs-redis-'));
  const aclFile = join(dir, 'users.acl');
  const port = await freePort();
  const useAclFile = options.useAclFile !== false;
  const aclLines = options.aclLines ?? [];
  if (useAclFile) writeFileSync(aclFile, aclLines.map((l) => `${l}\n`).join(''), { mode: 0o600 });
  const confFile = join(dir, 'redis.conf');
  writeFileSync(
    confFile,
    [
      `bind 127.0.0.1`, `port ${port}`, `save ""`, `appendonly no`, `dir ${dir}`, `logfile ${join(dir, 'redis.log')}`, 'daemonize no',
      ...(useAclFile ? [`aclfile ${aclFile}`] : aclLines),
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const child = spawn('redis-server', [confFile], { stdio: 'ignore' });
  let exited = false;
  child.on('exit', () => (exited = true));
  try {
    await waitForPort(port, 10000);
  } catch (e) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    host: '127.0.0.1',
    port,
    aclFile,
    confFile,
    dir,
    stop: async () => {
      if (!exited) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
