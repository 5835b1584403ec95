import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManifestError, findManifest, loadManifest, parseManifest } from '../../src/manifest/index.js';
import { PRESET_NAMES, presetManifest } from '../../src/manifest/presets.js';
import { renderTemplate, templateReferences, parseTemplate } from '../../src/manifest/template.js';

const BASE = `version: 1
project: demo
environments:
  production:
    vault: prod.yml
    vault_id: production@~/.vault_pass_production
  staging:
    vault: staging.yml
    vault_id: staging@~/.vault_pass_staging
`;

function issuesOf(text: string): ManifestError {
  try {
    parseManifest(text, 'vaultsmith.yaml');
  } catch (e) {
    assert.ok(e instanceof ManifestError, `expected ManifestError, got ${String(e)}`);
    assert.equal(e.code, 'MANIFEST');
    assert.doesNotMatch(e.message, /\n/);
    return e;
  }
  assert.fail('manifest was accepted');
}

test('every preset is a valid manifest', () => {
  for (const name of PRESET_NAMES) {
    const m = parseManifest(presetManifest(name, 'p'));
    assert.ok(Object.keys(m.environments).length >= 1);
  }
});

test('unknown keys are reported with line, column and a suggestion', () => {
  const e = issuesOf(`${BASE}secrets:\n  api_token:\n    generat: hex\n`);
  assert.equal(e.issues.length, 1);
  assert.deepEqual(e.issues[0]!.path, ['secrets', 'api_token', 'generat']);
  assert.equal(e.issues[0]!.line, 12);
  assert.equal(e.issues[0]!.col, 5);
  assert.match(e.message, /^invalid manifest: vaultsmith\.yaml:12:5: secrets\.api_token\.generat: unknown key 'generat' \(did you mean 'generate'\?\)/);
  const top = issuesOf(`${BASE}secret: {}\n`);
  assert.match(top.message, /vaultsmith\.yaml:10:1: secret: unknown key 'secret' \(did you mean 'secrets'\?\)/);
});

test('type errors point at the offending value', () => {
  const e = issuesOf(`${BASE}secrets:\n  k:\n    required: "yes"\n    min_strength: -3\n`);
  assert.equal(e.issues.length, 2);
  assert.deepEqual(e.issues.map((i) => [i.path.join('.'), i.line]), [
    ['secrets.k.required', 12],
    ['secrets.k.min_strength', 13],
  ]);
  const gen = issuesOf(`${BASE}secrets:\n  k:\n    generate: uuid\n`);
  assert.equal(gen.issues[0]!.line, 12);
  const rot = issuesOf(`${BASE}secrets:\n  k:\n    rotation: { strategy: postgres, period: soon }\n`);
  assert.match(rot.message, /secrets\.k\.rotation\.period: expected a duration/);
});

test('rotation options and the audit section pass through for their modules', () => {
  const m = parseManifest(
    `${BASE}secrets:\n  k:\n    rotation: { strategy: postgres-alternating, period: 90d, grace: 1d, roles: [a, b], user_key: u }\naudit:\n  file: audit.log\n  postgres: { url_env: AUDIT_DATABASE_URL, table: events }\n`,
  );
  assert.deepEqual(m.secrets?.k?.rotation?.roles, ['a', 'b']);
  const postgres = m.audit?.postgres;
  assert.ok(postgres, 'the postgres sink is kept');
  assert.equal(postgres.url_env, 'AUDIT_DATABASE_URL');
  const off = parseManifest(`${BASE}audit:\n  enabled: true\n  file: false\n  postgres: false\n`);
  assert.equal(off.audit?.file, false, 'file: false switches the file sink off');
});

test('bad templates: syntax, unknown names, unknown filters', () => {
  const syntax = issuesOf(`${BASE}secrets:\n  pw: { generate: hex }\n  url:\n    template: "redis://:{pw@redis"\n`);
  assert.match(syntax.message, /vaultsmith\.yaml:13:15: secrets\.url\.template: bad template: unclosed '\{'/);
  const unknown = issuesOf(`${BASE}variables:\n  URL:\n    template: "redis://:{redis_pasword}@redis"\n`);
  assert.match(unknown.message, /variables\.URL\.template: bad template: '\{redis_pasword\}' is neither a secret key nor a setting/);
  const filter = issuesOf(`${BASE}secrets:\n  pw: { generate: hex }\nvariables:\n  URL: { template: "{pw|base64}" }\n`);
  assert.match(filter.message, /unknown filter '\|base64'/);
});

test('template cycles are found and named', () => {
  const e = issuesOf(`${BASE}secrets:\n  a: { template: "x{b}" }\n  b: { template: "y{c}" }\n  c: { template: "z{a}" }\n`);
  assert.equal(e.issues.length, 1);
  assert.match(e.message, /secrets\.a\.template: template cycle: a → b → c → a/);
  assert.equal(e.issues[0]!.line, 11);
});

test('missing and unknown environments', () => {
  const none = issuesOf(`version: 1\nproject: x\nenvironments: {}\n`);
  assert.match(none.message, /environments: declare at least one environment/);
  const absent = issuesOf(`version: 1\nproject: x\n`);
  assert.match(absent.message, /vaultsmith\.yaml:1:1: environments: is required/);
  const gap = issuesOf(`${BASE}variables:\n  DEBUG:\n    value: { production: "False" }\n`);
  assert.match(gap.message, /variables\.DEBUG\.value: no value for environment 'staging'/);
  const typo = issuesOf(`${BASE}settings:\n  domain: { production: a.example, stagin: b.example, default: c.example }\n`);
  assert.match(typo.message, /settings\.domain\.stagin: unknown environment 'stagin'/);
  const badId = issuesOf(BASE.replace('production@~/.vault_pass_production', '~/.vault_pass_production'));
  assert.match(badId.message, /environments\.production\.vault_id: expected "<label>@<password source>"/);
});

test('variables need exactly one source, known secrets and declared services', () => {
  const two = issuesOf(`${BASE}secrets:\n  k: { generate: hex }\nvariables:\n  K: { secret: k, value: x }\n`);
  assert.match(two.message, /variables\.K: has secret and value; give exactly one/);
  const none = issuesOf(`${BASE}variables:\n  K: { description: nothing }\n`);
  assert.match(none.message, /variables\.K: needs a value/);
  const unknownSecret = issuesOf(`${BASE}variables:\n  K: { secret: nope }\n`);
  assert.match(unknownSecret.message, /variables\.K\.secret: 'nope' is not declared under secrets/);
  const service = issuesOf(`${BASE}services:\n  django: {}\nvariables:\n  K: { value: x, services: [django, celery] }\n`);
  assert.match(service.message, /variables\.K\.services\.1: unknown service 'celery' \(declared: django\)/);
});

test('YAML syntax errors carry a position', () => {
  const e = issuesOf(`${BASE}secrets:\n  k: [unclosed\n`);
  assert.match(e.message, /vaultsmith\.yaml:\d+:\d+: YAML syntax:/);
});

test('findManifest searches upward; loadManifest explains a missing manifest', async () => {
  const root = mkdtempSync(join(tmpdir(), 'vs-manifest-'));
  try {
    const deep = join(root, 'a', 'b');
    mkdirSync(deep, { recursive: true });
    assert.equal(findManifest(deep), null);
    await assert.rejects(loadManifest({ cwd: deep }), (e: Error & { code?: string }) => e.code === 'MANIFEST' && /no vaultsmith\.yaml found/.test(e.message));
    writeFileSync(join(root, 'vaultsmith.yaml'), BASE);
    assert.equal(findManifest(deep), join(root, 'vaultsmith.yaml'));
    const loaded = await loadManifest({ cwd: deep });
    assert.equal(loaded.dir, root);
    assert.deepEqual(Object.keys(loaded.manifest.environments), ['production', 'staging']);
    await assert.rejects(loadManifest({ cwd: root, path: 'missing.yaml' }), /does not exist/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('templates render, url-encode on request and keep literal braces', () => {
  const values: Record<string, string> = { pw: 'a b@c', host: 'redis' };
  assert.deepEqual(templateReferences('redis://:{pw}@{host}:6379/{pw}'), ['pw', 'host']);
  assert.equal(renderTemplate('redis://:{pw|url}@{host}/0', (n) => values[n]).value, 'redis://:a%20b%40c@redis/0');
  assert.equal(renderTemplate('{{literal}} {host}', (n) => values[n]).value, '{literal} redis');
  const missing = renderTemplate('{nope}-{host}', (n) => values[n]);
  assert.equal(missing.value, undefined);
  assert.deepEqual(missing.missing, ['nope']);
  assert.throws(() => parseTemplate('a}b'), /unmatched '\}'/);
});

test('the CLI reports a bad manifest as one ERROR! line with exit 3, and honours --manifest', async () => {
  const { runCli } = await import('../helpers/cli.js');
  const root = mkdtempSync(join(tmpdir(), 'vs-manifest-cli-'));
  try {
    writeFileSync(join(root, 'vaultsmith.yaml'), `${BASE}variables:\n  URL: { template: "{nope}" }\n`);
    const r = await runCli(['check'], { cwd: root, env: { PATH: process.env.PATH, HOME: root } });
    assert.equal(r.code, 3);
    assert.match(r.stderr, /^ERROR! invalid manifest: .*vaultsmith\.yaml:11:\d+: variables\.URL\.template: bad template: '\{nope\}'/);
    assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('ERROR!')).length, 1);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    mkdirSync(join(root, 'other'));
    writeFileSync(join(root, 'other', 'm.yaml'), BASE);
    const env = await runCli(['env', 'production', '--manifest', 'other/m.yaml'], { cwd: root, env: { PATH: process.env.PATH, HOME: root } });
    // The manifest loads; the vault does not exist, which is the next error.
    assert.equal(env.code, 1);
    assert.match(env.stderr, /^ERROR! /);
    assert.doesNotMatch(env.stderr, /invalid manifest/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('union and type errors say what is wrong instead of "Invalid input" / "is required"', () => {
  const kind = issuesOf(`${BASE}secrets:\n  k:\n    generate: fernett\n`);
  assert.deepEqual(kind.issues.map((i) => [i.path.join('.'), i.line, i.col]), [['secrets.k.generate', 12, 15]]);
  assert.match(kind.message, /generate: Invalid option: expected one of .*"fernet"/);
  const nestedKind = issuesOf(`${BASE}secrets:\n  k:\n    generate: { kind: uuid, bytes: 8 }\n`);
  assert.match(nestedKind.message, /secrets\.k\.generate\.kind: Invalid option: expected one of .*"token-urlsafe"/);
  const bytes = issuesOf(`${BASE}secrets:\n  k:\n    generate: { kind: hex, bytes: many }\n`);
  assert.match(bytes.message, /secrets\.k\.generate\.bytes: .*expected number/);
  assert.doesNotMatch(bytes.message, /is required/);
  const format = issuesOf(`${BASE}secrets:\n  k:\n    format: hostname\n`);
  assert.match(format.message, /secrets\.k\.format: Invalid option: expected one of .*"host"/);
  const regex = issuesOf(`${BASE}secrets:\n  k:\n    format: { regexp: "^a" }\n`);
  assert.match(regex.message, /unknown key 'regexp'/);
  const setting = issuesOf(`${BASE}settings:\n  port: [1, 2]\n`);
  assert.match(setting.message, /settings\.port: expected a string, number or boolean, or a map from environment name/);
  assert.doesNotMatch(setting.message, /Invalid input/);
  const project = issuesOf(BASE.replace('project: demo', 'project: 5'));
  assert.match(project.message, /project: Invalid input: expected string, received number/);
  assert.match(issuesOf(BASE.replace('project: demo\n', '')).message, /project: is required/);
});
