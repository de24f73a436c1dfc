/**
 * Which config keys hold secrets, and a copy of a config with them masked (`config show`), and the
 * one warning for keys proxbalance accepts but does not use (`config validate`, `doctor`).
 */
import { schemaAt } from './validate.js';

export const MASK = '********';

/** One warning for every key proxbalance does not use (ProxBalance's web UI, AI, collection settings…). */
export function unimplementedWarning(path: string, keys: string[]): string {
  return `${path}: ${keys.length} key(s) proxbalance does not implement, accepted and ignored (ProxBalance's web UI, AI and collection settings, or your own): ${keys.join(', ')}`;
}

/** A name that says secret: ProxBalance's own ignored keys include proxmox_password and AI API keys. */
const SECRET_NAME = /pass(word|wd)?|secret|token|api_?key|credential|private/i;

/**
 * Keys whose values are secrets: the token secret, every key the schema marks x-secret, and any key
 * the schema does not know (accepted and ignored) whose name says secret.
 */
export function isSecretKey(path: string): boolean {
  if (path === 'proxmox_api_token_secret' || schemaAt(path)?.['x-secret'] || schemaAt(path.replace(/\.[^.]+$/, ''))?.['x-secret']) return true;
  return schemaAt(path) === undefined && SECRET_NAME.test(path.slice(path.lastIndexOf('.') + 1));
}

function maskValue(v: unknown): unknown {
  if (typeof v === 'string') return v ? MASK : v;
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return Object.fromEntries(Object.keys(v).map((k) => [k, MASK]));
  return v;
}

/** A copy with every secret masked (notification tokens, passwords, webhook URLs, header values). */
export function masked(config: Record<string, unknown>): Record<string, unknown> {
  const walk = (value: unknown, path: string): unknown => {
    if (path && isSecretKey(path)) return maskValue(value);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, path ? `${path}.${k}` : k)]));
  };
  return walk(config, '') as Record<string, unknown>;
}
