// The README's main job (`npm start` runs `node dist/cli.js demo`): the whole manifest flow in a
// scratch directory, needing nothing but Node.js. Run in-process and as the built binary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

const STEPS = [
  '$ vaultsmith init --preset senex --yes',
  '$ vaultsmith check',
  '$ ... | vaultsmith set production vault_tastytrade_client_id --value-stdin',
  '$ vaultsmith env production --service django --mask',
  'Demo finished',
];

function scratchDirs(): string[] {
  return readdirSync(tmpdir()).filter((n) => n.startsWith('vaultsmith-demo-'));
}

function assertDemoOutput(stdout: string) {
  let at = 0;
  for (const step of STEPS) {
    const i = stdout.indexOf(step, at);
    assert.ok(i >= 0, `demo output lacks (in order): ${step}`);
    at = i;
  }
  assert.match(stdout, /FAILED production, staging: 10 errors, 0 warnings/);
  assert.match(stdout, /OK production, staging: 0 errors, 0 warnings/);
  assert.match(stdout, /^REDIS_URL='redis:\/\/:\*\*\*\*@redis:6379\/0'$/m);
  assert.match(stdout, /^SECRET_KEY='\*\*\*\*'$/m);
  // Masked: no generated-looking secret (long token) next to a secret variable.
  assert.doesNotMatch(stdout, /^(SECRET_KEY|DB_PASSWORD|REDIS_PASSWORD|FIELD_ENCRYPTION_KEY)='(?!\*\*\*\*')/m);
  assert.match(stdout, /Removed the scratch directories/);
}

test('demo runs in-process, exits 0 and removes its scratch directories', async () => {
  const before = new Set(scratchDirs());
  const started = Date.now();
  const r = await runCli(['demo'], { env: { PATH: process.env.PATH, HOME: '/nonexistent-home-for-demo', NO_COLOR: '1' } });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.stderr, '');
  assertDemoOutput(r.stdout);
  assert.ok(Date.now() - started < 20_000, 'demo must take a few seconds');
  assert.deepEqual(scratchDirs().filter((d) => !before.has(d)), []);
});

test('node dist/cli.js demo (the npm start main job) exits 0', () => {
  const cli = join(process.cwd(), 'dist', 'cli.js');
  if (!existsSync(cli)) {
    // `npm test` builds first; a lone run of this file may not have.
    const build = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
    assert.equal(build.status, 0, 'build failed');
  }
  const r = spawnSync(process.execPath, [cli, 'demo'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: '/nonexistent-home-for-demo', NO_COLOR: '1' },
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assertDemoOutput(r.stdout);
});
