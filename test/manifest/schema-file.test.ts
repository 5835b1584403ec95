import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { schemaFileText } from '../../schema/generate.js';

test('schema/vaultsmith.schema.json is generated from the zod schema and up to date', () => {
  const published = readFileSync(new URL('../../schema/vaultsmith.schema.json', import.meta.url), 'utf8');
  assert.ok(published === schemaFileText(), 'schema/vaultsmith.schema.json is stale: run node --import tsx schema/generate.ts');
  const schema = JSON.parse(published);
  assert.deepEqual(schema.required, ['version', 'project', 'environments']);
  assert.equal(schema.additionalProperties, false);
  for (const key of ['environments', 'settings', 'secrets', 'variables', 'services', 'audit']) assert.ok(key in schema.properties, key);
});
