import { readFileSync } from 'node:fs';
import type { ValidateFunction } from 'ajv';
import { validateSnapshotSchema } from '../generated/validate-snapshot.js';
import type { ClusterSnapshot } from '../generated/snapshot.js';
import { UsageError } from '../util/errors.js';
import { locateJsonError } from '../util/json-locate.js';

/** Reads and checks a snapshot file written by `proxbalance snapshot`. */
export function readSnapshotFile(path: string): ClusterSnapshot {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`${path}: cannot read the snapshot (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const at = locateJsonError(text);
    throw new UsageError(`${path}: not valid JSON${at ? ` at line ${at.line}, column ${at.column}: ${at.message}` : ''}`);
  }
  // Compiled at build time from schemas/snapshot.schema.json (scripts/gen-validators.mjs).
  const validate = validateSnapshotSchema as ValidateFunction;
  if (!validate(value)) {
    const problems = (validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath.replace(/^\//, '').replace(/\//g, '.') || '(top level)'} ${e.message}`);
    throw new UsageError(`${path}: not a proxbalance snapshot (schemas/snapshot.schema.json): ${problems.join('; ')}`);
  }
  return value as ClusterSnapshot;
}
