import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, chmodSync, existsSync, readFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { spawnSync } from 'node:child_process';
import {
  buildVaultIdList,
  loadVaultSecrets,
  parseVaultIdSpec,
  secretsForVaultLabel,
  selectEncryptSecret,
  readLine,
  readAll,
  findAnsibleConfig,
  withAnsibleConfig,
} from '../../src/secrets/index.js';
import { parseIniDefaults } from '../../src/secrets/ansible-config.js';
import { withFileLock, withFileLocks, lockPathFor } from '../../src/internal/file-lock.js';
import { VaultsmithError } from '../../src/errors.js';

const VECTORS = '/work/shared/vectors/ansible';
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'vaultsmith-secrets-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function ctxWith(stdin = '', env: NodeJS.ProcessEnv = {}) {
  const stderr = new PassThrough();
  const chunks: Buffer[] = [];
  stderr.on('data', (d: Buffer) => chunks.push(d));
  return {
    ctx: { env: { PATH: process.env.PATH, HOME: dir, ...env }, cwd: dir, stdin: Readable.from([Buffer.from(stdin)]), stderr },
    stderrText: () => Buffer.concat(chunks).toString('utf8'),
  };
}

function newPassword(): string {
  return `pw-${randomBytes(12).toString('hex')}`;
}

function file(name: string, content: string, mode = 0o600): string {
  const p = join(dir, name);
  writeFileSync(p, content, { mode });
  chmodSync(p, mode);
  return p;
}

async function rejectsWith(p: Promise<unknown>, code: string, pattern: RegExp, secret?: string): Promise<VaultsmithError> {
  const err = await p.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof VaultsmithError, String(err));
  assert.equal(err.code, code);
  assert.match(err.message, pattern);
  if (secret) assert.ok(!err.message.includes(secret), 'error message leaks the password');
  return err;
}

describe('parseVaultIdSpec', () => {
  test('splits label@source at the first @ and defaults the label', () => {
    assert.deepEqual(parseVaultIdSpec('prod@~/.pass'), { label: 'prod', source: '~/.pass' });
    assert.deepEqual(parseVaultIdSpec('/etc/pass'), { label: 'default', source: '/etc/pass' });
    assert.deepEqual(parseVaultIdSpec('@prompt'), { label: 'default', source: 'prompt' });
    assert.deepEqual(parseVaultIdSpec('dev@prompt'), { label: 'dev', source: 'prompt' });
    assert.deepEqual(parseVaultIdSpec('a@b@c'), { label: 'a', source: 'b@c' });
  });
  test("rejects ';' (it separates header fields) with Ansible's message", () => {
    assert.throws(() => parseVaultIdSpec('pro;d@x'), /The character ';' is not allowed in vault ids/);
  });
});

describe('buildVaultIdList', () => {
  test('identity list first, then --vault-id, then password files, then the env password file', () => {
    const ids = buildVaultIdList(
      { vaultIds: ['b@bfile'], passwordFiles: ['pfile'] },
      { ANSIBLE_VAULT_IDENTITY_LIST: 'a@afile, c@cfile', ANSIBLE_VAULT_PASSWORD_FILE: 'envfile' },
    );
    assert.deepEqual(ids, ['a@afile', 'c@cfile', 'b@bfile', 'default@pfile', 'default@envfile']);
  });
  test('prompts when nothing is configured, or when asked', () => {
    assert.deepEqual(buildVaultIdList({}, {}), ['default@prompt_ask_vault_pass']);
    assert.deepEqual(buildVaultIdList({ passwordFiles: ['f'], askVaultPass: true }, {}), ['default@f', 'default@prompt_ask_vault_pass']);
    assert.deepEqual(buildVaultIdList({ autoPrompt: false }, {}), []);
  });
});

describe('loadVaultSecrets: files', () => {
  test('strips surrounding whitespace and labels the secret', async () => {
    const pw = newPassword();
    const p = file('ws.pass', `  \t${pw}\r\n\n`);
    const { ctx } = ctxWith();
    const [s, ...rest] = await loadVaultSecrets({ vaultIds: [`prod@${p}`] }, ctx);
    assert.equal(rest.length, 0);
    assert.equal(s!.label, 'prod');
    assert.equal(s!.password.toString(), pw);
    assert.equal(s!.source, p);
  });

  test('an empty (whitespace-only) file is rejected naming the file', async () => {
    const p = file('empty.pass', ' \n\t\n');
    const { ctx, stderrText } = ctxWith();
    await rejectsWith(loadVaultSecrets({ passwordFiles: [p] }, ctx), 'PASSWORD_SOURCE', /Invalid vault password was provided from file \(.*empty\.pass\)/);
    assert.match(stderrText(), /\[WARNING\]: Error in vault password file loading \(default\): Invalid vault password/);
  });

  test('a missing file fails with Ansible wording; a later working source still wins (with a warning)', async () => {
    const { ctx, stderrText } = ctxWith();
    await rejectsWith(loadVaultSecrets({ passwordFiles: [join(dir, 'nope')] }, ctx), 'PASSWORD_SOURCE', /The vault password file .*nope was not found/);
    const pw = newPassword();
    const good = file('good.pass', pw);
    const secrets = await loadVaultSecrets({ vaultIds: [`x@${join(dir, 'nope')}`, `y@${good}`] }, ctx);
    assert.deepEqual(secrets.map((s) => s.label), ['y']);
    assert.match(stderrText(), /Error getting vault password file \(x\)/);
  });

  test('~ is expanded with HOME, relative paths resolve against cwd', async () => {
    const pw = newPassword();
    file('home.pass', pw);
    const { ctx } = ctxWith();
    const [a] = await loadVaultSecrets({ vaultIds: ['h@~/home.pass'] }, ctx);
    const [b] = await loadVaultSecrets({ passwordFiles: ['home.pass'] }, ctx);
    assert.equal(a!.password.toString(), pw);
    assert.equal(b!.password.toString(), pw);
  });

  test('ANSIBLE_VAULT_PASSWORD_FILE and ANSIBLE_VAULT_IDENTITY_LIST are honoured', async () => {
    const pw1 = newPassword();
    const pw2 = newPassword();
    const f1 = file('env1.pass', pw1);
    const f2 = file('env2.pass', pw2);
    const { ctx } = ctxWith('', { ANSIBLE_VAULT_PASSWORD_FILE: f1, ANSIBLE_VAULT_IDENTITY_LIST: `ops@${f2}` });
    const secrets = await loadVaultSecrets({}, ctx);
    assert.deepEqual(
      secrets.map((s) => [s.label, s.password.toString()]),
      [
        ['ops', pw2],
        ['default', pw1],
      ],
    );
  });

  test('a vault-encrypted password file is opened with the secrets loaded before it (Ansible vector)', async () => {
    const outer = file('outer.pass', 'test-vault-password\n');
    const { ctx } = ctxWith();
    const secrets = await loadVaultSecrets({ vaultIds: [`outer@${outer}`, `inner@${VECTORS}/encrypted-vault-password`] }, ctx);
    assert.equal(secrets[1]!.label, 'inner');
    assert.equal(secrets[1]!.password.toString(), 'encrypted-vault-password');
    await rejectsWith(
      loadVaultSecrets({ vaultIds: [`inner@${VECTORS}/encrypted-vault-password`] }, ctxWith().ctx),
      'PASSWORD_SOURCE',
      /vault encrypted and no earlier vault secret can open it/,
    );
  });
});

describe('loadVaultSecrets: scripts', () => {
  test('an executable file is run and its stdout (CR/LF stripped) is the password', async () => {
    const pw = newPassword();
    const s = file('pass.sh', `#!/bin/sh\nprintf '%s\\r\\n' '${pw}'\n`, 0o700);
    const [secret] = await loadVaultSecrets({ passwordFiles: [s] }, ctxWith().ctx);
    assert.equal(secret!.password.toString(), pw);
  });

  test('a failing script is reported with its exit code, an empty output is rejected', async () => {
    const bad = file('bad.sh', '#!/bin/sh\necho broken >&2\nexit 3\n', 0o700);
    await rejectsWith(loadVaultSecrets({ passwordFiles: [bad] }, ctxWith().ctx), 'PASSWORD_SOURCE', /Vault password script .*bad\.sh returned non-zero \(3\): broken/);
    const empty = file('empty.sh', '#!/bin/sh\necho\n', 0o700);
    await rejectsWith(loadVaultSecrets({ passwordFiles: [empty] }, ctxWith().ctx), 'PASSWORD_SOURCE', /Invalid vault password was provided from script/);
  });

  test('a plain password file with a stray executable bit is refused, never run by /bin/sh, and never echoed', async () => {
    const marker = join(dirname(file('marker-dir-probe', '')), 'RAN-AS-SHELL');
    const pw = `${newPassword()};touch ${marker};x`;
    const plain = file('plain-exec.pass', `${pw}\n`, 0o755);
    const error = await loadVaultSecrets({ passwordFiles: [plain] }, ctxWith().ctx).catch((e: unknown) => e);
    assert.ok(error instanceof VaultsmithError && error.code === 'PASSWORD_SOURCE', String(error));
    assert.match(error.message, /^Problem running vault password script .*plain-exec\.pass \(ENOEXEC.*\)\. If this is not a script, remove the executable bit from the file\.$/);
    assert.ok(!error.message.includes(pw.slice(0, 8)), 'the password was echoed');
    assert.equal(existsSync(marker), false, 'the file was run as shell commands');
  });

  test('*-client scripts get --vault-id <label>; exit 2 means unknown label', async () => {
    const pw = newPassword();
    const client = file(
      'vault-keyring-client.sh',
      `#!/bin/sh\nif [ "$1" = "--vault-id" ] && [ "$2" = "prod" ]; then echo '${pw}'; exit 0; fi\necho "unknown id $2" >&2\nexit 2\n`,
      0o700,
    );
    const [secret] = await loadVaultSecrets({ vaultIds: [`prod@${client}`] }, ctxWith().ctx);
    assert.equal(secret!.password.toString(), pw);
    await rejectsWith(
      loadVaultSecrets({ vaultIds: [`dev@${client}`] }, ctxWith().ctx),
      'PASSWORD_SOURCE',
      /client script .* did not find a secret for vault-id=dev: unknown id dev/,
    );
    // Without a label the script gets no --vault-id; the message says None, as ansible-vault's does.
    await rejectsWith(
      loadVaultSecrets({ vaultIds: [client] }, ctxWith().ctx),
      'PASSWORD_SOURCE',
      /client script .* did not find a secret for vault-id=None: unknown id$/,
    );
  });
});

describe('loadVaultSecrets: prompts on a piped stdin', () => {
  test('--ask-vault-pass reads one line; the rest stays readable', async () => {
    const pw = newPassword();
    const { ctx } = ctxWith(`${pw}\nrest of stdin\n`);
    const [s] = await loadVaultSecrets({ askVaultPass: true }, ctx);
    assert.equal(s!.label, 'default');
    assert.equal(s!.password.toString(), pw);
    assert.equal((await readAll(ctx.stdin)).toString(), 'rest of stdin\n');
  });

  test('new passwords are asked twice; a mismatch fails without echoing either', async () => {
    const pw = newPassword();
    const [s] = await loadVaultSecrets({ vaultIds: ['dev@prompt'], createNewPassword: true }, ctxWith(`${pw}\n${pw}\n`).ctx);
    assert.equal(s!.label, 'dev');
    assert.equal(s!.password.toString(), pw);
    const other = newPassword();
    await rejectsWith(loadVaultSecrets({ vaultIds: ['dev@prompt'], createNewPassword: true }, ctxWith(`${pw}\n${other}\n`).ctx), 'PASSWORD_SOURCE', /^Passwords do not match$/, pw);
  });

  test('end of input and empty answers are errors', async () => {
    await rejectsWith(loadVaultSecrets({ askVaultPass: true }, ctxWith('').ctx), 'PASSWORD_SOURCE', /EOFError \(ctrl-d\) on prompt for \(default\)/);
    await rejectsWith(loadVaultSecrets({ askVaultPass: true }, ctxWith('\n').ctx), 'PASSWORD_SOURCE', /Invalid vault password was provided/);
  });

  test('readLine handles CRLF and chunk boundaries', async () => {
    const stream = Readable.from([Buffer.from('ab'), Buffer.from('c\r\nde'), Buffer.from('f\n')]);
    assert.equal((await readLine(stream))!.toString(), 'abc');
    assert.equal((await readLine(stream))!.toString(), 'def');
    assert.equal(await readLine(stream), null);
  });
});

describe('secret selection', () => {
  const a = { label: 'a', password: Buffer.from('x') };
  const b = { label: 'b', password: Buffer.from('y') };
  test('selectEncryptSecret: first secret, or the one named by --encrypt-vault-id', () => {
    assert.equal(selectEncryptSecret([a, b]), a);
    assert.equal(selectEncryptSecret([a, b], 'b'), b);
    assert.throws(() => selectEncryptSecret([a, b], 'c'), /Did not find a match for --encrypt-vault-id=c in the known vault-ids \['a', 'b'\]/);
  });
  test('ANSIBLE_VAULT_ID_MATCH keeps only the secrets with the header label', () => {
    assert.deepEqual(secretsForVaultLabel([a, b], 'b', {}), [a, b]);
    assert.deepEqual(secretsForVaultLabel([a, b], 'b', { ANSIBLE_VAULT_ID_MATCH: 'true' }), [b]);
    assert.deepEqual(secretsForVaultLabel([a, { label: 'default', password: Buffer.from('z') }], null, { ANSIBLE_VAULT_ID_MATCH: '1' }).map((s) => s.label), ['default']);
  });
});

describe('withFileLock', () => {
  test('a held lock makes a second locker fail with CONFLICT; the lock is removed afterwards', async () => {
    const target = file('locked.yml', 'x');
    let inner: unknown;
    const result = await withFileLock(target, async () => {
      assert.equal(readFileSync(lockPathFor(target), 'utf8'), `${process.pid}\n${hostname()}\n`);
      inner = await withFileLock(target, async () => 'second').catch((e: unknown) => e);
      return 'first';
    });
    assert.equal(result, 'first');
    assert.ok(inner instanceof VaultsmithError && inner.code === 'CONFLICT', String(inner));
    assert.match((inner as Error).message, /is locked by process \d+/);
    assert.equal(existsSync(lockPathFor(target)), false);
  });

  test('a lock left by a dead process is taken over', async () => {
    const target = file('stale.yml', 'x');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    writeFileSync(lockPathFor(target), `${dead.stdout.toString()}\n`);
    assert.equal(await withFileLock(target, async () => 'ok'), 'ok');
    assert.equal(existsSync(lockPathFor(target)), false);
  });

  test("a lock holding our own pid that we do not hold is stale (pid reuse, a killed container's pid 1); another host's lock holds", async () => {
    const target = file('own-pid.yml', 'x');
    writeFileSync(lockPathFor(target), `${process.pid}\n`);
    assert.equal(await withFileLock(target, async () => 'taken over'), 'taken over');
    writeFileSync(lockPathFor(target), `${process.pid}\nsome-other-host\n`);
    await assert.rejects(withFileLock(target, async () => 'no'), (e: unknown) => e instanceof VaultsmithError && e.code === 'CONFLICT' && /process \d+ on some-other-host/.test(e.message));
    rmSync(lockPathFor(target));
  });

  test('the lock is released when fn throws', async () => {
    const target = file('throws.yml', 'x');
    await assert.rejects(withFileLock(target, async () => { throw new Error('boom'); }), /boom/);
    assert.equal(existsSync(lockPathFor(target)), false);
  });

  test('withFileLocks takes every lock (a file named twice once) or none, and releases them', async () => {
    const [a, b, c] = [file('many-a.yml', 'a'), file('many-b.yml', 'b'), file('many-c.yml', 'c')];
    const seen = await withFileLocks([b, a, `${a}`, c], async () => [a, b, c].map((t) => existsSync(lockPathFor(t))));
    assert.deepEqual(seen, [true, true, true]);
    assert.deepEqual([a, b, c].map((t) => existsSync(lockPathFor(t))), [false, false, false]);
    // b is held by a live process (us): nothing runs, and the locks taken on a and c are given back.
    let ran = false;
    const error = await withFileLock(b, () => withFileLocks([a, b, c], async () => { ran = true; }).catch((e: unknown) => e));
    assert.equal(ran, false);
    assert.ok(error instanceof VaultsmithError && error.code === 'CONFLICT', String(error));
    assert.match((error as Error).message, /many-b\.yml is locked by process/);
    assert.deepEqual([a, b, c].map((t) => existsSync(lockPathFor(t))), [false, false, false]);
  });
});

describe('prompts on a terminal', () => {
  function fakeTty(keys: string) {
    const stdin = new PassThrough() as PassThrough & { isTTY: boolean; isRaw: boolean; setRawMode(mode: boolean): void };
    stdin.isTTY = true;
    stdin.isRaw = false;
    const modes: boolean[] = [];
    stdin.setRawMode = (mode: boolean) => {
      modes.push(mode);
      stdin.isRaw = mode;
    };
    const stderr = new PassThrough();
    const shown: Buffer[] = [];
    stderr.on('data', (d: Buffer) => shown.push(d));
    // Keys arrive after the prompt is shown, like a person typing.
    setImmediate(() => stdin.write(keys));
    return { ctx: { env: { HOME: dir }, cwd: dir, stdin, stderr }, modes, shown: () => Buffer.concat(shown).toString() };
  }

  test('reads without echo in raw mode, handles backspace, restores the mode', async () => {
    const { ctx, modes, shown } = fakeTty('secreX\x7ft\r');
    const [s] = await loadVaultSecrets({ vaultIds: ['ops@prompt'] }, ctx);
    assert.equal(s!.password.toString(), 'secret');
    assert.deepEqual(modes, [true, false]);
    assert.equal(shown(), 'Vault password (ops): \n');
  });

  test('Ctrl-C at the prompt aborts', async () => {
    const { ctx } = fakeTty('abc\x03');
    await rejectsWith(loadVaultSecrets({ askVaultPass: true }, ctx), 'USAGE', /interrupted at the password prompt/);
  });
});

describe("Ansible's config file (ansible.cfg) vault settings", () => {
  test('configparser rules: [defaults] only, case-insensitive keys, = or :, comments, inline ; comments', () => {
    const ini = '# top\n[defaults]\nVAULT_Password_File = ~/pw ; inline\nvault_identity_list: a@x, b@y\n; gone = 1\n[other]\nvault_identity = no\n';
    assert.deepEqual([...parseIniDefaults(ini)], [
      ['vault_password_file', '~/pw'],
      ['vault_identity_list', 'a@x, b@y'],
    ]);
  });

  test('./ansible.cfg fills unset variables; a relative password file is relative to the config file', async () => {
    const project = join(dir, 'cfg-project');
    mkdirSync(join(project, 'keys'), { recursive: true, mode: 0o700 });
    const pw = newPassword();
    writeFileSync(join(project, 'keys', 'pass'), `${pw}\n`, { mode: 0o600 });
    writeFileSync(join(project, 'ansible.cfg'), '[defaults]\nvault_password_file = keys/pass\nvault_identity = proj\n');
    const env = { HOME: dir };
    assert.equal(findAnsibleConfig(env, project), join(project, 'ansible.cfg'));
    const merged = withAnsibleConfig(env, project);
    assert.equal(merged.ANSIBLE_VAULT_PASSWORD_FILE, join(project, 'keys', 'pass'));
    assert.equal(merged.ANSIBLE_VAULT_IDENTITY, 'proj');
    // The environment wins over the file, as in Ansible.
    assert.equal(withAnsibleConfig({ ...env, ANSIBLE_VAULT_IDENTITY: 'env' }, project).ANSIBLE_VAULT_IDENTITY, 'env');
    const { ctx } = ctxWith();
    const [secret] = await loadVaultSecrets({}, { ...ctx, cwd: project });
    assert.deepEqual([secret!.label, secret!.password.toString()], ['proj', pw]);
    // A manifest-driven load (useEnvironment: false) ignores the config file.
    assert.deepEqual(await loadVaultSecrets({ useEnvironment: false, autoPrompt: false }, { ...ctx, cwd: project }), []);
  });

  test('password paths expand $VARS and ${VARS} (unknown ones stay) and ~, as unfrackpath', async () => {
    const pw = newPassword();
    file('expanded.pass', `${pw}\n`);
    const { ctx } = ctxWith('', { VS_DIR: dir });
    for (const source of ['$VS_DIR/expanded.pass', '${VS_DIR}/expanded.pass', '~/expanded.pass']) {
      const [secret] = await loadVaultSecrets({ vaultIds: [`x@${source}`] }, ctx);
      assert.equal(secret!.password.toString(), pw, source);
    }
    await rejectsWith(loadVaultSecrets({ vaultIds: ['x@$NO_SUCH_VAR/p'] }, ctx), 'PASSWORD_SOURCE', /\$NO_SUCH_VAR\/p was not found/);
  });

  test('$ANSIBLE_CONFIG (file or directory) comes first; a world-writable working directory is skipped', () => {
    const a = join(dir, 'cfg-a');
    const b = join(dir, 'cfg-b');
    for (const d of [a, b]) {
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'ansible.cfg'), `[defaults]\nvault_identity = ${d === a ? 'a' : 'b'}\n`);
    }
    assert.equal(findAnsibleConfig({ HOME: dir, ANSIBLE_CONFIG: b }, a), join(b, 'ansible.cfg'));
    assert.equal(findAnsibleConfig({ HOME: dir, ANSIBLE_CONFIG: join(b, 'ansible.cfg') }, a), join(b, 'ansible.cfg'));
    chmodSync(a, 0o777);
    try {
      assert.equal(findAnsibleConfig({ HOME: dir }, a), null);
    } finally {
      chmodSync(a, 0o755);
    }
    assert.equal(withAnsibleConfig({ HOME: dir }, a).ANSIBLE_VAULT_IDENTITY, 'a');
  });
});
