import { VaultsmithError } from '../errors.js';

/**
 * Splits a command line like Python's `shlex.split` (POSIX mode, no comments), which Ansible uses
 * for `$EDITOR`: whitespace separates words, single quotes are literal, double quotes allow
 * backslash escapes of `\ " $ \``, and a backslash outside quotes escapes the next character.
 */
export function splitShellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && i + 1 < line.length && '\\"$`\n'.includes(line[i + 1]!)) word += line[++i];
      else word += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw new VaultsmithError('USAGE', 'EDITOR: No escaped character');
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new VaultsmithError('USAGE', 'EDITOR: No closing quotation');
  if (inWord) words.push(word);
  return words;
}
