import { parseArgs, type ParseArgsConfig } from 'node:util';
import { VaultsmithError } from '../errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * parseArgs with vaultsmith's conventions: unknown options are a usage error with a one-line message,
 * `-h/--help` is always accepted, and `--` ends option parsing.
 */
export function parseCommandArgs<O extends Options>(
  command: string,
  args: string[],
  options: O,
  allowPositionals = true,
) {
  try {
    return parseArgs({
      args,
      options: { help: { type: 'boolean', short: 'h' }, ...options },
      allowPositionals,
      strict: true,
    });
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new VaultsmithError('USAGE', `${command}: ${msg}`, { hint: `see 'vaultsmith ${command} --help'` });
  }
}
