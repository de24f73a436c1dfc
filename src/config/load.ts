import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { ConfigError } from '../util/errors.js';
import { locateJsonError } from '../util/json-locate.js';
import { unknownKeys, validateConfig, withDefaults, type Config } from './validate.js';

export type { Config } from './validate.js';

export const DEFAULT_CONFIG_PATH = '/opt/proxmox-balance-manager/config.json';

/** --config wins, then PROXBALANCE_CONFIG, then the guide's path. */
export function resolveConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag || env.PROXBALANCE_CONFIG || DEFAULT_CONFIG_PATH;
}

export interface LoadedConfig {
  path: string;
  /** Effective config: the file with every default filled in. */
  config: Config;
  /** The file as written, without defaults (what writes start from). */
  raw: Record<string, unknown>;
  /** Things worth a warning: likely typos, a readable secret. */
  warnings: string[];
  /** Keys accepted and ignored (ProxBalance's web UI, AI, notification settings, …). */
  ignored: string[];
}

/** Parses the text of a config file; a syntax error names the line and column. */
export function parseConfigText(text: string, path: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const where = locateJsonError(text);
    const detail = where ? `line ${where.line}, column ${where.column}: ${where.message}` : (e as Error).message;
    throw new ConfigError(`${path}: not valid JSON at ${detail}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`${path}: must hold a JSON object ({ … }) at the top level`);
  }
  const dup = locateJsonError(text, { duplicates: true });
  if (dup) throw new ConfigError(`${path}: line ${dup.line}, column ${dup.column}: ${dup.message}`);
  return raw as Record<string, unknown>;
}

/** Checks a parsed config: returns it with defaults, or throws a ConfigError listing every problem. */
export function checkConfig(raw: Record<string, unknown>, path: string): Omit<LoadedConfig, 'path' | 'raw'> {
  const config = withDefaults(raw) as unknown as Config;
  const problems = validateConfig(config);
  if (problems.length) {
    throw new ConfigError(problems.map((p) => `${path}: ${p}`).join('\n'), problems);
  }
  const warnings: string[] = [];
  const ignored: string[] = [];
  for (const u of unknownKeys(raw)) {
    if (u.suggestion) warnings.push(`${path}: unknown key ${u.path}, ignored; did you mean ${u.suggestion}?`);
    else ignored.push(u.path);
  }
  return { config, warnings, ignored };
}

export function loadConfig(path: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new ConfigError(`${path}: no such config file (give --config PATH or set PROXBALANCE_CONFIG; \`proxbalance config init\` writes one)`);
    }
    throw new ConfigError(`${path}: cannot read the config file (${code ?? (e as Error).message})`);
  }
  const raw = parseConfigText(text, path);
  const checked = checkConfig(raw, path);
  const problems = fileProblems(checked.config, checked.warnings);
  if (problems.length) throw new ConfigError(problems.map((p) => `${path}: ${p}`).join('\n'), problems);
  if (checked.config.proxmox_api_token_secret) {
    const w = secretModeWarning(path);
    if (w) checked.warnings.push(w);
  }
  return { path, raw, ...checked };
}

/** The group the service reads its config through (deploy/debian/postinst: root:proxbalance 0640). */
const SERVICE_GROUP = 'proxbalance';

function groupName(gid: number): string | null {
  try {
    const line = readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.split(':')[2] === String(gid));
    return line ? line.split(':')[0]! : null;
  } catch {
    return null;
  }
}

/**
 * A config holding the secret should be readable by root and the service's group only: others
 * never, and its group only when that is the service's. The advice keeps the service able to read it.
 */
export function secretModeWarning(path: string): string | null {
  let st;
  try {
    st = statSync(path);
  } catch {
    return null; // stat raced with a removal: nothing to warn about
  }
  const mode = st.mode & 0o777;
  const byOthers = (mode & 0o007) !== 0;
  const byGroup = (mode & 0o070) !== 0 && groupName(st.gid) !== SERVICE_GROUP;
  if (!byOthers && !byGroup) return null;
  return `${path} holds the API token secret and is readable by ${byOthers ? 'everyone' : `its group ${groupName(st.gid) ?? st.gid}`} (mode ${mode.toString(8).padStart(4, '0')}): ` +
    `chown root:${SERVICE_GROUP} ${path} && chmod 0640 ${path} (the service reads it through its group), or move the secret to proxmox_api_token_secret_file`;
}

/** Where proxmox_api_token_secret_file is read from (relative: in systemd's $CREDENTIALS_DIRECTORY). */
function secretFilePath(file: string, env: NodeJS.ProcessEnv): string {
  return isAbsolute(file) ? file : join(env.CREDENTIALS_DIRECTORY ?? '.', file);
}

/**
 * What the files the config names say, found at load time so that they are config errors
 * (exit 2, the key named) instead of failures halfway through a tick: the CA file must be
 * readable, the secret file must not be readable by everyone.
 */
function fileProblems(config: Config, warnings: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const problems: string[] = [];
  if (config.proxmox_ca_file) {
    try {
      accessSync(config.proxmox_ca_file, constants.R_OK);
    } catch (e) {
      problems.push(`proxmox_ca_file: cannot read ${config.proxmox_ca_file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  const file = config.proxmox_api_token_secret_file;
  if (file && !config.proxmox_api_token_secret && !env.PROXBALANCE_TOKEN_SECRET) {
    const full = secretFilePath(file, env);
    try {
      const mode = statSync(full).mode & 0o777;
      const shown = mode.toString(8).padStart(4, '0');
      // The package's layout is root:proxbalance 0640: the service reads through its group, so
      // only "everyone" is a problem, and the advice keeps the service able to read the file.
      if (mode & 0o007) problems.push(`proxmox_api_token_secret_file: ${full} is readable by everyone (mode ${shown}); chown root:proxbalance ${full} && chmod 0640 ${full}`);
    } catch {
      /* missing or unreadable: resolveTokenSecret says so, naming the key */
    }
  }
  return problems;
}

/**
 * The API token secret: PROXBALANCE_TOKEN_SECRET, else proxmox_api_token_secret, else the file
 * named by proxmox_api_token_secret_file (relative names are looked up in $CREDENTIALS_DIRECTORY,
 * where systemd's LoadCredential= puts them). Throws a ConfigError when none is set.
 */
export function resolveTokenSecret(config: Config, configPath: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.PROXBALANCE_TOKEN_SECRET) return env.PROXBALANCE_TOKEN_SECRET.trim();
  if (config.proxmox_api_token_secret) return config.proxmox_api_token_secret;
  const file = config.proxmox_api_token_secret_file;
  if (file) {
    const full = secretFilePath(file, env);
    try {
      const secret = readFileSync(full, 'utf8').trim();
      if (!secret) throw new ConfigError(`${configPath}: proxmox_api_token_secret_file ${full} is empty`);
      return secret;
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      throw new ConfigError(`${configPath}: proxmox_api_token_secret_file: cannot read ${full} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  throw new ConfigError(
    `${configPath}: no API token secret: set proxmox_api_token_secret, proxmox_api_token_secret_file, or the PROXBALANCE_TOKEN_SECRET environment variable`,
  );
}
