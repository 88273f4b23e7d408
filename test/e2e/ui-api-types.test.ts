import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { API_TYPES_FILE, apiTypes } from '../../scripts/ui-api-types.ts';

test('the UI\'s API types are generated from the API\'s current OpenAPI document', async () => {
  const fresh = await apiTypes();
  assert.ok(fresh.includes('"/api/v1/runs/{id}"'), 'the generated types describe the run routes');
  assert.equal(readFileSync(API_TYPES_FILE, 'utf8'), fresh, 'ui/src/api/schema.d.ts is stale: run `npm run ui:api-types`');
});
