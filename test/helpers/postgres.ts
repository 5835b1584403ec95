import { spawn, spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian puts the PostgreSQL 15 server binaries (initdb, pg_ctl). */
export const PG_BIN = '/usr/lib/postgresql/15/bin';

/** A free loopback TCP port, chosen by the kernel (never a fixed port). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface StartedPostgres {
  host: string;
  port: number;
  /** Superuser `postgres` over TCP with SCRAM; the password was generated at start. */
  adminUrl: string;
  dataDir: string;
  /** The server log; `log_statement=all` so tests can prove no plaintext password reaches it. */
  logFile: string;
  /** Reads the server log (as text) at this moment. */
  readLog(): string;
  stop(): Promise<void>;
}

interface PgUser {
  uid: number;
  gid: number;
}

function postgresUser(): PgUser | null {
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) return null;
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** Runs a PostgreSQL server binary; as root it runs as `postgres` (initdb refuses root). */
function runPg(asPostgres: boolean, binary: string, args: string[]): Promise<{ code: number; output: string }> {
  const command = asPostgres ? 'runuser' : join(PG_BIN, binary);
  const argv = asPostgres ? ['-u', 'postgres', '--', join(PG_BIN, binary), ...args] : args;
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/**
 * Starts a throw-away PostgreSQL 15 on 127.0.0.1:<free port> in a temp dir: host auth is
 * scram-sha-256, the superuser `postgres` gets a random password (set over the local socket with
 * trust auth, which the temp dir keeps private), fsync off, every statement logged.
 */
export async function startPostgres(options: { logStatements?: boolean } = {}): Promise<StartedPostgres> {
  const isRoot = process.getuid?.() === 0;
  const pgUser = isRoot ? postgresUser() : null;
  if (isRoot && !pgUser) throw new Error('running as root but there is no postgres user to run initdb as');
  const dir = mkdtempSync(join(tmpdir(), 'vs-pg-'));
  if (pgUser) chownSync(dir, pgUser.uid, pgUser.gid);
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    const init = await runPg(Boolean(pgUser), 'initdb', [
      '-D', dataDir, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '--no-sync', '-E', 'UTF8',
    ]);
    if (init.code !== 0) throw new Error(`initdb failed: ${init.output.slice(-2000)}`);
    const port = await freePort();
    const serverOptions = [
      '-c listen_addresses=127.0.0.1', `-p ${port}`, `-k ${dir}`, '-c fsync=off',
      '-c synchronous_commit=off', '-c full_page_writes=off', '-c shared_buffers=16MB', '-c max_connections=40',
      `-c log_statement=${options.logStatements === false ? 'none' : 'all'}`,
    ].join(' ');
    const start = await runPg(Boolean(pgUser), 'pg_ctl', ['-D', dataDir, '-l', logFile, '-o', serverOptions, '-w', '-t', '60', 'start']);
    if (start.code !== 0) {
      let log = '';
      try {
        log = readFileSync(logFile, 'utf8').slice(-2000);
      } catch {
        /* no log yet */
      }
      throw new Error(`pg_ctl start failed: ${start.output.slice(-1000)} ${log}`);
    }
    const stop = async () => {
      await runPg(Boolean(pgUser), 'pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      cleanup();
    };
    // Give the superuser a password over the trusted unix socket so TCP (SCRAM) logins work.
    const { randomBytes } = await import('node:crypto');
    const adminPassword = randomBytes(18).toString('hex');
    const pg = (await import('pg')).default;
    const client = new pg.Client({ host: dir, port, user: 'postgres', database: 'postgres' });
    try {
      await client.connect();
      await client.query(`ALTER ROLE postgres PASSWORD '${adminPassword}'`);
    } catch (e) {
      await client.end().catch(() => undefined);
      await stop();
      throw e;
    }
    await client.end();
    return {
      host: '127.0.0.1',
      port,
      adminUrl: `postgres://postgres:${adminPassword}@127.0.0.1:${port}/postgres`,
      dataDir,
      logFile,
      readLog: () => {
        try {
          return readFileSync(logFile, 'utf8');
        } catch {
          return '';
        }
      },
      stop,
    };
  } catch (e) {
    cleanup();
    throw e;
  }
}
