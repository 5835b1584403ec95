import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { generateSecret } from '../../src/gen/index.js';
import { checkEnvironmentValues, checkSharedValues, type Finding } from '../../src/manifest/check.js';
import { estimateStrengthBits, formatProblems, placeholderReason } from '../../src/manifest/formats.js';
import { loadManifest, parseManifest } from '../../src/manifest/index.js';
import { checkProject } from '../../src/services/check.js';
import { createVaultFile } from '../../src/store/index.js';

const MANIFEST = `version: 1
project: t
environments:
  production: { vault: vaults/production.yml, vault_id: production@PASSDIR/.vault_pass_production, production: true }
  staging: { vault: vaults/staging.yml, vault_id: staging@PASSDIR/.vault_pass_staging }
settings:
  redis_host: redis
secrets:
  secret_key: { generate: django-secret-key, format: django-secret-key }
  fernet_key: { generate: fernet, format: fernet }
  redis_password: { generate: { kind: token-urlsafe, bytes: 24 }, min_strength: 128 }
  redis_url: { template: "redis://:{redis_password}@{redis_host}:6379/0", format: url }
  client_id: { placeholder: YOUR-CLIENT-ID }
  db_port: { default: 5432, format: port }
  admin_email: { default: ops@example.com, format: email, required: false }
  sku: { default: AB-12, format: { regex: "[A-Z]{2}-[0-9]{2}" } }
variables:
  DEBUG: { value: { production: "False", staging: "True" } }
  REDIS_URL: { secret: redis_url }
`;

const manifest = parseManifest(MANIFEST.replaceAll('PASSDIR', '/nonexistent'));

function goodValues(): Record<string, unknown> {
  const redis = generateSecret({ kind: 'token-urlsafe', bytes: 24 });
  return {
    secret_key: generateSecret({ kind: 'django-secret-key' }),
    fernet_key: generateSecret({ kind: 'fernet' }),
    redis_password: redis,
    redis_url: `redis://:${redis}@redis:6379/0`,
    client_id: `client-${randomBytes(6).toString('hex')}`,
    db_port: 5432,
    admin_email: 'ops@example.com',
    sku: 'AB-12',
  };
}

const kinds = (findings: Finding[]) => findings.map((f) => `${f.key}:${f.kind}`).sort();

/** Asserts no finding message contains any of the values (messages must never leak). */
function assertNoValues(findings: Finding[], values: Record<string, unknown>) {
  for (const f of findings) {
    for (const v of Object.values(values)) {
      if (typeof v === 'string' && v.length > 6) assert.ok(!f.message.includes(v), `finding ${f.key}:${f.kind} leaks a value`);
    }
  }
}

test('a complete, valid environment has no findings', () => {
  assert.deepEqual(checkEnvironmentValues(manifest, 'production', goodValues()), []);
});

test('missing required keys (optional ones may be absent)', () => {
  const values = goodValues();
  delete values.fernet_key;
  delete values.admin_email;
  assert.deepEqual(kinds(checkEnvironmentValues(manifest, 'staging', values)), ['fernet_key:missing-key']);
});

test('placeholders: GENERATED-, YOUR-, CHANGE-ME, empty and the declared placeholder', () => {
  const values = goodValues();
  values.secret_key = 'GENERATED-DJANGO-SECRET-KEY';
  values.fernet_key = '';
  values.redis_url = 'redis://:GENERATED-REDIS-PASSWORD@redis:6379/0';
  values.client_id = 'YOUR-CLIENT-ID';
  values.sku = 'CHANGE-ME';
  const findings = checkEnvironmentValues(manifest, 'staging', values);
  assert.deepEqual(kinds(findings), ['client_id:placeholder', 'fernet_key:placeholder', 'redis_url:placeholder', 'secret_key:placeholder', 'sku:placeholder']);
  assert.ok(findings.every((f) => f.severity === 'error'));
  assert.equal(placeholderReason('a-real-value-YOURS'), null);
});

test('format and strength failures', () => {
  const values = goodValues();
  values.secret_key = 'django-insecure-' + 'x'.repeat(60);
  values.fernet_key = 'not-a-fernet-key';
  values.redis_password = 'short';
  values.redis_url = 'redis://:short@redis:6379/0';
  values.db_port = 70000;
  values.admin_email = 'ops.example.com';
  values.sku = 'ab-12';
  const findings = checkEnvironmentValues(manifest, 'staging', values);
  assert.deepEqual(kinds(findings), [
    'admin_email:bad-format',
    'db_port:bad-format',
    'fernet_key:bad-format',
    'redis_password:weak',
    'secret_key:bad-format',
    'sku:bad-format',
  ]);
  assertNoValues(findings, values);
  assert.deepEqual(formatProblems('https://api.tastyworks.com', 'url'), []);
  assert.ok(formatProblems('not a url', 'url').length > 0);
  assert.deepEqual(formatProblems('postgres', 'host'), []);
  assert.ok(formatProblems('bad_host!', 'host').length > 0);
  assert.ok(estimateStrengthBits('aaaa') < estimateStrengthBits('aA1!'));
});

test('a stored value that disagrees with its template (old password inside the URL)', () => {
  const values = goodValues();
  values.redis_url = `redis://:${generateSecret({ kind: 'token-urlsafe', bytes: 24 })}@redis:6379/0`;
  const findings = checkEnvironmentValues(manifest, 'production', values);
  assert.deepEqual(kinds(findings), ['redis_url:template-mismatch']);
  assertNoValues(findings, values);
});

test('unknown keys are errors; vaultsmith_ keys are reserved and ignored', () => {
  const values = { ...goodValues(), legacy_token: 'x', vaultsmith_pending: { redis_password: 'y' } };
  const findings = checkEnvironmentValues(manifest, 'staging', values);
  assert.deepEqual(kinds(findings), ['legacy_token:unknown-key']);
  assert.equal(findings[0]!.severity, 'error');
});

test('DEBUG true in production is an error, in staging it is allowed', () => {
  const m = parseManifest(MANIFEST.replaceAll('PASSDIR', '/x').replace('production: "False"', 'production: "True"'));
  assert.deepEqual(kinds(checkEnvironmentValues(m, 'production', goodValues())), ['DEBUG:debug-in-production']);
  assert.deepEqual(checkEnvironmentValues(m, 'staging', goodValues()), []);
});

test('the same secret in two environments; configuration may repeat', () => {
  const production = goodValues();
  const staging = goodValues();
  staging.redis_password = production.redis_password;
  staging.redis_url = production.redis_url;
  staging.client_id = production.client_id;
  const findings = checkSharedValues(manifest, new Map([['production', production], ['staging', staging]]));
  assert.deepEqual(kinds(findings), ['client_id:shared-value', 'client_id:shared-value', 'redis_password:shared-value', 'redis_password:shared-value']);
  assert.equal(findings.find((f) => f.key === 'redis_password')!.severity, 'error');
  assert.equal(findings.find((f) => f.key === 'client_id')!.severity, 'warning');
  assertNoValues(findings, production);
});

test('checkProject: password file permissions, repository, missing file, unreadable vault, label mismatch', async () => {
  const project = mkdtempSync(join(tmpdir(), 'vs-check-project-'));
  const home = mkdtempSync(join(tmpdir(), 'vs-check-home-'));
  try {
    mkdirSync(join(project, '.git'));
    mkdirSync(join(project, 'vaults'));
    // production's password file lives inside the repository (not ignored) and is world-readable.
    writeFileSync(join(project, 'vaultsmith.yaml'), MANIFEST.replace('PASSDIR/.vault_pass_production', 'secrets/prod-pass').replaceAll('PASSDIR', home));
    mkdirSync(join(project, 'secrets'));
    const prodPassword = randomBytes(24).toString('hex');
    writeFileSync(join(project, 'secrets', 'prod-pass'), `${prodPassword}\n`, { mode: 0o644 });
    chmodSync(join(project, 'secrets', 'prod-pass'), 0o644);
    const values = goodValues();
    const yaml = Object.entries(values).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join('\n');
    // Encrypted under the label "prod", while the manifest says "production".
    await createVaultFile(join(project, 'vaults', 'production.yml'), yaml, { label: 'prod', password: Buffer.from(prodPassword) }, 'prod');
    const loaded = await loadManifest({ cwd: project });
    const ctx = { env: { HOME: home }, cwd: project, stdin: Readable.from([]), stderr: new PassThrough() };
    const result = await checkProject(loaded, [], ctx);
    const got = result.findings.map((f) => `${f.env}:${f.kind}`).sort();
    assert.deepEqual(got, [
      'production:label-mismatch',
      'production:password-file-in-repository',
      'production:password-file-permissions',
      'staging:password-file-missing',
      'staging:vault-unreadable',
    ]);
    assert.ok(result.errors >= 4);
    assertNoValues(result.findings, { ...values, prodPassword });

    // Fixing the mode and ignoring the file clears both findings.
    chmodSync(join(project, 'secrets', 'prod-pass'), 0o600);
    writeFileSync(join(project, '.gitignore'), 'secrets/\n');
    const again = await checkProject(loaded, ['production'], ctx);
    assert.deepEqual(again.findings.map((f) => f.kind), ['label-mismatch']);
  } finally {
    rmSync(project, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  }
});

test('a required variable whose optional vault key is missing', () => {
  const m = parseManifest(MANIFEST.replaceAll('PASSDIR', '/x') + '  ADMIN_EMAIL: { secret: admin_email }\n');
  const values = goodValues();
  delete values.admin_email;
  assert.deepEqual(kinds(checkEnvironmentValues(m, 'staging', values)), ['ADMIN_EMAIL:missing-value']);
});
