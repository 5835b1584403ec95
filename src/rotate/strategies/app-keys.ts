import { VaultsmithError } from '../../errors.js';
import { splitKeyList } from '../key-list.js';
import { reencryptColumns } from '../reencrypt.js';
import type { RotationStrategy, StrategyContext } from '../types.js';

export { splitKeyList } from '../key-list.js';

function fallbacksKey(ctx: StrategyContext): string {
  return typeof ctx.spec.fallbacks_key === 'string' ? ctx.spec.fallbacks_key : `${ctx.secretKey}_fallbacks`;
}

/** Django's own check (security.W009): at least 50 characters and 5 distinct ones. */
function djangoKeyProblems(key: string): string[] {
  const problems: string[] = [];
  if (key.length < 50) problems.push('shorter than 50 characters');
  if (new Set(key).size < 5) problems.push('fewer than 5 distinct characters');
  if (key.includes(',')) problems.push('contains a comma (cannot be listed in SECRET_KEY_FALLBACKS)');
  return problems;
}

/**
 * Django SECRET_KEY: the old key moves to the front of SECRET_KEY_FALLBACKS (a vault key rendered
 * into the contract variable), so sessions and signatures stay valid (Django >= 4.1.8); it is
 * dropped from the fallbacks when the grace period ends.
 */
export const djangoSecretKeyStrategy: RotationStrategy = {
  name: 'django-secret-key',
  generate: (ctx) => ctx.generateBase(),
  promoteEdits(ctx, v) {
    const key = fallbacksKey(ctx);
    const fallbacks = splitKeyList(v.values[key]).filter((k) => k !== v.current && k !== v.pending);
    return { [key]: [v.current, ...fallbacks].join(',') };
  },
  async apply() {
    // Django reads the key at start-up; there is no service to change before delivery.
  },
  async test(ctx, v) {
    const problems = djangoKeyProblems(v.pending);
    if (problems.length) throw new VaultsmithError('CHECK_FAILED', `new ${ctx.secretKey} is unusable: ${problems.join('; ')}`);
  },
  async finish(ctx, v) {
    const key = fallbacksKey(ctx);
    const fallbacks = splitKeyList(v.values[key]).filter((k) => k !== v.previous);
    ctx.log(`django: dropped the old key from ${key}`);
    return { [key]: fallbacks.join(',') };
  },
  async revert() {
    // Nothing was changed outside the vault.
  },
};

/**
 * Fernet (FIELD_ENCRYPTION_KEY as a comma-separated MultiFernet key list, primary first): the new key
 * goes first and the old one stays after it until the grace period ends (and, when configured, every
 * row has been re-encrypted); then the list shrinks to the new key.
 */
export const fernetStrategy: RotationStrategy = {
  name: 'fernet',
  generate(ctx, current) {
    const fresh = ctx.generateBase();
    return [fresh, ...splitKeyList(current).filter((k) => k !== fresh)].join(',');
  },
  async apply() {
    // The application decrypts with every key in the list; nothing to change before delivery.
  },
  async test(ctx, v) {
    const keys = splitKeyList(v.pending);
    const valid = (k: string) => {
      const raw = Buffer.from(k, 'base64url');
      return raw.length === 32 && /^[A-Za-z0-9_-]{43}=$/.test(k);
    };
    if (!keys.length || !keys.every(valid)) throw new VaultsmithError('CHECK_FAILED', `new ${ctx.secretKey} is not a list of Fernet keys`);
  },
  async finish(ctx, v) {
    const [primary] = splitKeyList(v.values[ctx.secretKey]);
    if (!primary) throw new VaultsmithError('INTERNAL', `fernet: ${ctx.secretKey} has no key`);
    const reencrypt = ctx.spec.reencrypt;
    // Dropping the old key makes every value still encrypted under it unreadable. Without a way to
    // re-encrypt (or the user's word that the application does), finishing is refused, loudly, so
    // a scheduled `rotate --due` cannot destroy data on its own.
    if (reencrypt === undefined) {
      throw new VaultsmithError(
        'MANIFEST',
        `fernet: finishing would drop the old key of ${ctx.secretKey}, but the rotation has no reencrypt: values encrypted under the old key would become unreadable; the old key was kept`,
        {
          hint: "add reencrypt: { columns: [{ table, column }] } to the rotation (docs/ROTATION.md), or reencrypt: external once the application re-encrypts its data itself, then rotate --resume",
        },
      );
    }
    if (reencrypt !== 'external') await reencryptColumns(ctx, String(v.values[ctx.secretKey]), v.values);
    ctx.log('fernet: dropped the old key from the key list');
    return { [ctx.secretKey]: primary };
  },
  async revert() {
    // Nothing was changed outside the vault.
  },
};
