import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeIsolatedPodman } from '../deliver/podman-store.js';
import { requireTool } from '../helpers/tools.js';
import { runCli } from '../helpers/cli.js';

const DAY = 86_400;

/** Parses the Prometheus text exposition format strictly enough to catch malformed output. */
function parsePrometheus(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  const typed = new Set<string>();
  const samples: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  assert.ok(text.endsWith('\n'), 'exposition ends with a newline');
  for (const line of text.slice(0, -1).split('\n')) {
    let m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$/.exec(line);
    if (m) continue;
    m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter|untyped)$/.exec(line);
    if (m) {
      typed.add(m[1]!);
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*)\} (-?[0-9.e+]+)$/.exec(line);
    assert.ok(m, `valid sample line: ${line}`);
    assert.ok(typed.has(m[1]!), `TYPE declared before ${m[1]}`);
    const labels: Record<string, string> = {};
    for (const l of m[2]!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    const value = Number(m[3]);
    assert.ok(Number.isFinite(value), `numeric value in ${line}`);
    samples.push({ name: m[1]!, labels, value });
  }
  return samples;
}

interface Status {
  secret: string;
  ageSeconds: number;
  overdue: boolean;
  source: string;
  lastRotatedAt: string | null;
  rotationInProgress: boolean;
}

test('status: ages across init, set and rotate; overdue detection; Prometheus output parses', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vs-status-'));
  const home = mkdtempSync(join(tmpdir(), 'vs-status-home-'));
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });
  // The senex preset delivers FIELD_ENCRYPTION_KEY as a Podman secret: rotate syncs a private store.
  if (!requireTool(t, 'podman')) return;
  const podman = await makeIsolatedPodman();
  t.after(() => podman.cleanup());
  const env = { ...podman.env, PATH: podman.env.PATH, HOME: home, VAULTSMITH_AUDIT: 'off', NO_COLOR: '1' };
  const cli = (argv: string[]) => runCli(argv, { cwd: dir, env });
  const init = await cli(['init', '--preset', 'senex', '--yes']);
  assert.equal(init.code, 0, init.stderr);
  // The preset restarts systemd units; this test has none.
  const manifestPath = join(dir, 'vaultsmith.yaml');
  writeFileSync(manifestPath, readFileSync(manifestPath, 'utf8').replace(/systemctl --user [a-z-]+ [a-z.-]+/g, 'echo ok'));

  const statusOf = async (): Promise<Map<string, Status>> => {
    const r = await cli(['status', 'staging', '--json']);
    assert.equal(r.code, 0, r.stderr);
    return new Map((JSON.parse(r.stdout) as Status[]).map((s) => [s.secret, s]));
  };
  const historyFile = join(dir, '.vaultsmith', 'history-staging.json');
  const backdate = (key: string, days: number) => {
    const history = JSON.parse(readFileSync(historyFile, 'utf8'));
    history.secrets[key].lastChangedAt = new Date(Date.now() - days * DAY * 1000).toISOString();
    writeFileSync(historyFile, JSON.stringify(history));
  };

  const afterInit = await statusOf();
  for (const key of ['vault_secret_key', 'vault_field_encryption_key', 'vault_db_password', 'vault_redis_password']) {
    const s = afterInit.get(key);
    assert.ok(s, `${key} is listed`);
    assert.equal(s.source, 'history', `${key}: age comes from init's record`);
    assert.ok(s.ageSeconds < 120 && !s.overdue, `${key} is fresh after init`);
  }

  backdate('vault_field_encryption_key', 400);
  const old = (await statusOf()).get('vault_field_encryption_key')!;
  assert.ok(Math.abs(old.ageSeconds - 400 * DAY) < 120, 'age follows the recorded time');
  assert.equal(old.overdue, true, 'older than the 365d period is overdue');
  const failing = await cli(['status', 'staging', '--fail-on-overdue']);
  assert.equal(failing.code, 4, '--fail-on-overdue fails');
  assert.match(failing.stderr, /^ERROR! 1 secret is overdue for rotation: staging\/vault_field_encryption_key$/m, 'a one-line reason for cron mail');

  const prom = await cli(['status', '--format', 'prometheus']);
  assert.equal(prom.code, 0, prom.stderr);
  const samples = parsePrometheus(prom.stdout);
  const overdue = samples.find((s) => s.name === 'vaultsmith_secret_overdue' && s.labels.env === 'staging' && s.labels.secret === 'vault_field_encryption_key');
  assert.equal(overdue?.value, 1);
  const age = samples.find((s) => s.name === 'vaultsmith_secret_age_seconds' && s.labels.env === 'staging' && s.labels.secret === 'vault_field_encryption_key');
  assert.ok(age && Math.abs(age.value - 400 * DAY) < 120);

  const set = await cli(['set', 'staging', 'vault_field_encryption_key', '--generate']);
  assert.equal(set.code, 0, set.stderr);
  const afterSet = (await statusOf()).get('vault_field_encryption_key')!;
  assert.ok(afterSet.ageSeconds < 120 && !afterSet.overdue && afterSet.lastRotatedAt === null, 'set resets the age, not the rotation date');

  backdate('vault_field_encryption_key', 400);
  const due = await cli(['rotate', 'staging', '--due', '--json']);
  assert.equal(due.code, 0, due.stderr + due.stdout);
  const results = JSON.parse(due.stdout).results as Array<{ secret: string; status: string }>;
  assert.deepEqual(results.map((r) => r.secret), ['vault_field_encryption_key'], '--due picks exactly the overdue secret');
  const inGrace = (await statusOf()).get('vault_field_encryption_key')!;
  assert.equal(inGrace.rotationInProgress, true, 'the 30d grace period shows as a rotation in progress');
  assert.ok(inGrace.ageSeconds < 120 && !inGrace.overdue, 'the delivered value counts from delivery, not from the old record');
  // Dropping the old Fernet key needs a way to re-encrypt (the preset has none): refused until the
  // manifest says the application re-encrypts its data itself.
  const refused = await cli(['rotate', 'staging', '--resume', '--finish-now']);
  assert.equal(refused.code, 3, refused.stderr);
  assert.match(refused.stderr, /has no reencrypt/);
  const withExternal = readFileSync(manifestPath, 'utf8').replace('strategy: fernet, period: 365d, grace: 30d }', 'strategy: fernet, period: 365d, grace: 30d, reencrypt: external }');
  assert.notEqual(withExternal, readFileSync(manifestPath, 'utf8'), "the preset's fernet rotation line was not found");
  writeFileSync(manifestPath, withExternal);
  const fin = await cli(['rotate', 'staging', '--resume', '--finish-now']);
  assert.equal(fin.code, 0, fin.stderr);
  const afterRotate = (await statusOf()).get('vault_field_encryption_key')!;
  assert.ok(afterRotate.ageSeconds < 120 && !afterRotate.overdue && afterRotate.lastRotatedAt, 'rotate resets the age and records the rotation');
  assert.equal(afterRotate.rotationInProgress, false);

  const table = await cli(['status', 'staging']);
  assert.match(table.stdout, /^ENV\s+SECRET\s+STRATEGY\s+AGE\s+PERIOD\s+DUE\s+LAST ROTATED\s+STATE$/m);
});
