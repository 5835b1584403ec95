// Writes schema/vaultsmith.schema.json from the zod schema in src/manifest/schema.ts.
// Run: node --import tsx schema/generate.ts   (test/manifest/schema-file.test.ts fails when it is stale)
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { manifestJsonSchema } from '../src/manifest/schema.js';

export function schemaFileText(): string {
  return `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const target = fileURLToPath(new URL('./vaultsmith.schema.json', import.meta.url));
  writeFileSync(target, schemaFileText());
  process.stdout.write(`wrote ${target}\n`);
}
