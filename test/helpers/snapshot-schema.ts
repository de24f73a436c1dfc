import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { ROOT } from './cli.js';
import type { ClusterSnapshot } from '../../src/generated/snapshot.js';

const schema = JSON.parse(readFileSync(join(ROOT, 'schemas', 'snapshot.schema.json'), 'utf8'));
const ajv = new Ajv({ allErrors: true, strict: false });
ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
const validate = ajv.compile(schema);

/** Fails unless the value satisfies schemas/snapshot.schema.json. */
export function assertValidSnapshot(s: unknown): asserts s is ClusterSnapshot {
  assert.ok(validate(s), JSON.stringify(validate.errors?.slice(0, 5)));
}
