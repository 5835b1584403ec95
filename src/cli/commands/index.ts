import type { Command } from '../context.js';
// Each command lives in its own file; add it to this list (the order is the order in --help).

export const commands: Command[] = [];
