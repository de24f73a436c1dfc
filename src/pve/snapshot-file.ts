import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import type { ClusterSnapshot } from '../generated/snapshot.js';
import { loadSchema } from '../util/resources.js';
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
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  const validate = ajv.compile(loadSchema('snapshot'));
  if (!validate(value)) {
    const problems = (validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath.replace(/^\//, '').replace(/\//g, '.') || '(top level)'} ${e.message}`);
    throw new UsageError(`${path}: not a proxbalance snapshot (schemas/snapshot.schema.json): ${problems.join('; ')}`);
  }
  return value as ClusterSnapshot;
}
