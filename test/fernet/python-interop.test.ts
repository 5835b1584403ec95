// Interop with Debian's python3-cryptography: tokens and keys must cross between vaultsmith and
// Python's cryptography.fernet in both directions, and hostile inputs must be accepted or refused
// by both alike. All Python work happens in one /usr/bin/python3 process (JSON over stdin/stdout).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Fernet, InvalidToken, MultiFernet } from '../../src/fernet/index.js';
import { runCli } from '../helpers/cli.js';
import { requirePythonModule, runPythonJson } from '../helpers/python.js';

const PYTHON_FERNET_SCRIPT = String.raw`
import json, sys
from cryptography.fernet import Fernet, MultiFernet, InvalidToken

def multi(keys):
    return MultiFernet([Fernet(k) for k in keys])

def run(op):
    kind = op["op"]
    if kind == "key":
        Fernet(op["key"])
        return {"ok": True}
    if kind == "encrypt":
        f = multi(op["keys"])
        data = bytes.fromhex(op["data_hex"])
        token = f.encrypt_at_time(data, op["at"]) if "at" in op else f.encrypt(data)
        return {"token": token.decode()}
    if kind == "decrypt":
        f = multi(op["keys"])
        if "now" in op:
            return {"plain_hex": f.decrypt_at_time(op["token"], op["ttl"], op["now"]).hex()}
        return {"plain_hex": f.decrypt(op["token"], op.get("ttl")).hex()}
    if kind == "rotate":
        return {"token": multi(op["keys"]).rotate(op["token"]).decode()}
    if kind == "extract":
        return {"timestamp": Fernet(op["key"]).extract_timestamp(op["token"])}
    if kind == "generate":
        return {"key": Fernet.generate_key().decode()}
    raise RuntimeError("unknown op")

results = []
for op in json.load(sys.stdin):
    try:
        results.append(run(op))
    except Exception as e:  # only the type name: messages could quote input
        results.append({"error": type(e).__name__})
print(json.dumps(results))
`;

type PyOp = Record<string, unknown> & { op: string };
type PyResult = { ok?: boolean; token?: string; plain_hex?: string; timestamp?: number; key?: string; error?: string };

/** Collects Python operations so the whole file needs one Python process. */
class PythonBatch {
  readonly ops: PyOp[] = [];
  private results: PyResult[] | undefined;
  add(op: PyOp): number {
    return this.ops.push(op) - 1;
  }
  async run(): Promise<void> {
    this.results = await runPythonJson<PyResult[]>(PYTHON_FERNET_SCRIPT, this.ops);
    assert.equal(this.results.length, this.ops.length);
  }
  get(index: number): PyResult {
    const r = this.results?.[index];
    assert.ok(r, 'python result present');
    return r;
  }
}

const AT = 1_700_000_000;
const hex = (data: Uint8Array | string) => Buffer.from(data).toString('hex');

/** What vaultsmith does with a hostile token: the plaintext as hex, or the error type. */
function tsDecrypt(keys: string[], token: string, ttl?: number, now?: number): PyResult {
  try {
    const f = new MultiFernet(keys.map((k) => new Fernet(k)));
    const plain = now === undefined ? f.decrypt(token, ttl) : f.decryptAtTime(token, ttl ?? 0, now);
    return { plain_hex: plain.toString('hex') };
  } catch (e) {
    assert.ok(e instanceof InvalidToken, `only InvalidToken escapes (got ${(e as Error).name})`);
    return { error: 'InvalidToken' };
  }
}

function mutateChar(token: string, index: number): string {
  const c = token[index]!;
  return token.slice(0, index) + (c === 'A' ? 'B' : 'A') + token.slice(index + 1);
}

test('vaultsmith and Python cryptography.fernet read each other', async (t) => {
  if (!requirePythonModule(t, 'cryptography.fernet')) return;

  // Keys from the CLI, as an operator would make them.
  const gen = await runCli(['gen', 'fernet', '--count', '3']);
  assert.equal(gen.code, 0);
  const [k1, k2, k3] = gen.stdout.trim().split('\n') as [string, string, string];
  assert.ok(k1 && k2 && k3 && new Set([k1, k2, k3]).size === 3);

  const py = new PythonBatch();
  const keyChecks = [k1, k2, k3].map((key) => py.add({ op: 'key', key }));
  const pythonKey = py.add({ op: 'generate' });

  // vaultsmith -> Python, single key and MultiFernet; messages of every padding length.
  const messages: Buffer[] = [
    Buffer.alloc(0),
    Buffer.from('hello'),
    Buffer.from('pässwörd ✓ 🔑', 'utf8'),
    randomBytes(15),
    randomBytes(16),
    randomBytes(17),
    randomBytes(1000),
  ];
  const single = new Fernet(k1);
  const tsSingle = messages.map((m) => ({ m, i: py.add({ op: 'decrypt', keys: [k1], token: single.encrypt(m) }) }));
  const tsMulti = new MultiFernet([new Fernet(k2), new Fernet(k1)]);
  const multiToken = tsMulti.encrypt('made by the first key');
  const multiByPython = py.add({ op: 'decrypt', keys: [k2, k1], token: multiToken });
  const multiWrongKeys = py.add({ op: 'decrypt', keys: [k1, k3], token: multiToken });

  // vaultsmith rotation keeps the timestamp; Python must read it with the new key alone.
  const oldToken = single.encryptAtTime('rotate me', AT);
  const rotatedByTs = tsMulti.rotate(oldToken);
  const rotatedDecrypt = py.add({ op: 'decrypt', keys: [k2], token: rotatedByTs });
  const rotatedTimestamp = py.add({ op: 'extract', key: k2, token: rotatedByTs });

  // Python -> vaultsmith.
  const pyTokens = messages.map((m) => ({ m, i: py.add({ op: 'encrypt', keys: [k3], data_hex: hex(m) }) }));
  const pyAtTime = py.add({ op: 'encrypt', keys: [k3], data_hex: hex('dated'), at: AT });
  const pyMulti = py.add({ op: 'encrypt', keys: [k3, k1], data_hex: hex('python multi') });
  const pyRotated = py.add({ op: 'rotate', keys: [k3, k1], token: oldToken });

  // CLI -> Python: `vaultsmith fernet encrypt` with a MultiFernet list in the environment.
  const cliEncrypt = await runCli(['fernet', 'encrypt'], {
    env: { FIELD_ENCRYPTION_KEY: `${k2},${k1}` },
    stdin: 'first row\nsecond row\n',
  });
  assert.equal(cliEncrypt.code, 0, cliEncrypt.stderr);
  const cliTokens = cliEncrypt.stdout.trim().split('\n');
  assert.equal(cliTokens.length, 2);
  const cliByPython = cliTokens.map((token) => py.add({ op: 'decrypt', keys: [k2], token }));

  // Hostile tokens: both sides must agree on accept/refuse (and the plaintext when accepted).
  const base = single.encryptAtTime('differential', AT);
  const hostileTokens: string[] = [
    base,
    `${base}\n`,
    ` ${base.slice(0, 20)}\n${base.slice(20)} `,
    base.replace(/-/g, '+').replace(/_/g, '/'),
    base.replace(/=+$/, ''),
    `${base}=`,
    `${base}AAAA`,
    `${base}%%`,
    base.slice(0, -4),
    base.slice(0, -1),
    base.slice(0, 40),
    ...[0, 2, 8, 14, 30, 40, 60, 90, base.length - 6].map((i) => mutateChar(base, i)),
    '',
    '=',
    'gAAAAA',
    'gAAAAAAA',
    '%%%%',
    `${base}é`,
    new Fernet(k3).encryptAtTime('other key', AT),
    single.encryptAtTime('far future', 2n ** 64n - 1n),
  ];
  const timeCases: { ttl?: number; now?: number }[] = [
    {},
    { ttl: 60, now: AT + 60 },
    { ttl: 60, now: AT + 61 },
    { ttl: 0, now: AT },
    { ttl: 60, now: AT - 60 },
    { ttl: 60, now: AT - 61 },
    { ttl: 10 ** 9, now: AT + 5 },
  ];
  const differential: { token: string; ttl?: number; now?: number; i: number }[] = [];
  for (const token of hostileTokens) {
    differential.push({ token, i: py.add({ op: 'decrypt', keys: [k1], token }) });
  }
  for (const tc of timeCases) {
    for (const token of [base, hostileTokens.at(-1)!]) {
      differential.push({ token, ...tc, i: py.add({ op: 'decrypt', keys: [k1], token, ...tc }) });
    }
  }

  // Hostile keys: Python's Fernet() raises ValueError exactly where vaultsmith raises InvalidToken.
  const hostileKeys = [
    k1,
    k1.replace(/=$/, ''),
    `${k1}\n`,
    ` ${k1}`,
    `${k1.slice(0, 10)} ${k1.slice(10)}`,
    k1.replace(/-/g, '+').replace(/_/g, '/'),
    `${k1}AAAA`,
    Buffer.alloc(31, 7).toString('base64url') + '=',
    Buffer.alloc(33, 7).toString('base64url'),
    Buffer.alloc(32, 7).toString('hex'),
    '!'.repeat(44),
    '',
  ];
  const keyDifferential = hostileKeys.map((key) => ({ key, i: py.add({ op: 'key', key }) }));

  await py.run();

  await t.test('keys from `vaultsmith gen fernet` are accepted by Python', () => {
    for (const i of keyChecks) assert.deepEqual(py.get(i), { ok: true });
  });

  await t.test("Python's Fernet.generate_key() works in vaultsmith", () => {
    const key = py.get(pythonKey).key!;
    assert.equal(new Fernet(key).decrypt(new Fernet(key).encrypt('x')).toString(), 'x');
  });

  await t.test('Python decrypts vaultsmith tokens (single key and MultiFernet)', () => {
    for (const { m, i } of tsSingle) assert.equal(py.get(i).plain_hex, hex(m));
    assert.equal(py.get(multiByPython).plain_hex, hex('made by the first key'));
    assert.deepEqual(py.get(multiWrongKeys), { error: 'InvalidToken' });
  });

  await t.test('Python reads a token rotated by vaultsmith, with the original timestamp', () => {
    assert.equal(py.get(rotatedDecrypt).plain_hex, hex('rotate me'));
    assert.equal(py.get(rotatedTimestamp).timestamp, AT);
    assert.notEqual(rotatedByTs, oldToken);
  });

  await t.test('vaultsmith decrypts Python tokens (single key, dated, MultiFernet, rotated)', () => {
    const f3 = new Fernet(k3);
    for (const { m, i } of pyTokens) assert.deepEqual(f3.decrypt(py.get(i).token!), m);
    const dated = py.get(pyAtTime).token!;
    assert.equal(f3.decrypt(dated).toString(), 'dated');
    assert.equal(f3.extractTimestamp(dated), AT);
    const multi = new MultiFernet([new Fernet(k1), f3]);
    assert.equal(multi.decrypt(py.get(pyMulti).token!).toString(), 'python multi');
    assert.throws(() => new Fernet(k1).decrypt(py.get(pyMulti).token!), InvalidToken);
    const rotated = py.get(pyRotated).token!;
    assert.equal(f3.decrypt(rotated).toString(), 'rotate me');
    assert.equal(f3.extractTimestamp(rotated), AT);
  });

  await t.test('Python decrypts tokens from `vaultsmith fernet encrypt`', () => {
    assert.deepEqual(
      cliByPython.map((i) => py.get(i).plain_hex),
      [hex('first row'), hex('second row')],
    );
  });

  await t.test('`vaultsmith fernet decrypt` and `rotate` read Python tokens', async () => {
    const tokens = pyTokens.slice(1, 3).map(({ i }) => py.get(i).token!);
    const decrypted = await runCli(['fernet', 'decrypt', '--key-env', 'APP_KEYS'], {
      env: { APP_KEYS: `${k1}, ${k3}` },
      stdin: `${tokens.join('\n')}\n`,
    });
    assert.equal(decrypted.code, 0, decrypted.stderr);
    assert.equal(decrypted.stdout, `hello\npässwörd ✓ 🔑\n`);
    const rotated = await runCli(['fernet', 'rotate', '--key-env', 'APP_KEYS'], {
      env: { APP_KEYS: `${k1},${k3}` },
      stdin: `${tokens.join('\n')}\n`,
    });
    assert.equal(rotated.code, 0, rotated.stderr);
    const back = rotated.stdout.trim().split('\n').map((tok) => new Fernet(k1).decrypt(tok).toString('utf8'));
    assert.deepEqual(back, ['hello', 'pässwörd ✓ 🔑']);
  });

  await t.test('hostile tokens and TTL/skew cases: same decision as Python', () => {
    let refused = 0;
    for (const c of differential) {
      const expected = py.get(c.i);
      const got = tsDecrypt([k1], c.token, c.ttl, c.now);
      const label = `case ${differential.indexOf(c)} (ttl=${c.ttl}, now=${c.now})`;
      if (expected.error) {
        refused++;
        assert.deepEqual(got, { error: 'InvalidToken' }, `${label}: Python refused with ${expected.error}`);
      } else {
        assert.deepEqual(got, expected, `${label}: Python accepted`);
      }
    }
    // The set must exercise both outcomes, or it proves nothing.
    assert.ok(refused >= 15 && refused < differential.length - 5, `refused ${refused} of ${differential.length}`);
  });

  await t.test('hostile keys: vaultsmith refuses exactly the keys Python refuses', () => {
    const pythonRefused = keyDifferential.filter(({ i }) => py.get(i).error === 'ValueError').length;
    assert.ok(pythonRefused >= 5 && pythonRefused <= hostileKeys.length - 4, `python refused ${pythonRefused} keys`);
    for (const { key, i } of keyDifferential) {
      const pythonAccepts = py.get(i).ok === true;
      let ours = true;
      try {
        new Fernet(key);
      } catch (e) {
        assert.ok(e instanceof InvalidToken);
        assert.doesNotMatch(e.message, new RegExp(k1.slice(0, 12)));
        ours = false;
      }
      assert.equal(ours, pythonAccepts, `key case ${hostileKeys.indexOf(key)}`);
    }
  });
});
