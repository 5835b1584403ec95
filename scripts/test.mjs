// Runs the whole suite with node:test. Unit and integration files run as separate processes in
// parallel (each integration file starts its own servers on free loopback ports).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism, tmpdir } from 'node:os';

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
let files = find('test').sort();
if (filter.length) files = files.filter((f) => filter.some((x) => f.includes(x)));
const concurrency = Number(process.env.TEST_CONCURRENCY) || Math.max(2, availableParallelism());
// The whole run gets private XDG state/config directories, so the default audit log and audit key
// (and anything else kept there) are exercised for real but never land in the developer's HOME.
const xdg = mkdtempSync(join(tmpdir(), 'vs-test-xdg-'));
let r;
try {
  r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files],
    { stdio: 'inherit', env: { ...process.env, XDG_STATE_HOME: join(xdg, 'state'), XDG_CONFIG_HOME: join(xdg, 'config') } },
  );
} finally {
  rmSync(xdg, { recursive: true, force: true });
}
process.exit(r.status ?? 1);
