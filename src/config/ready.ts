import { isAbsolute } from 'node:path';
import { resolveTokenSecret, type Config } from './load.js';

/**
 * Is a valid config also ready to run? What `proxbalance config validate` checks beyond the schema,
 * so that "valid" means the next `run` will not stop on its config: a token secret that can be
 * read, and hosts that are not the example's placeholders. Each problem starts with its key path.
 */

/** Names reserved for examples (RFC 2606 / 6761) and the usual fill-me-in markers. */
export function isPlaceholderHost(host: string): boolean {
  const h = host.trim().toLowerCase();
  return h === '' || /(^|\.)example(\.(com|net|org))?$/.test(h) || /\.invalid$/.test(h) || /[<>]|change[-_ ]?me|your[-_ ]/.test(h);
}

export function readinessProblems(config: Config, configPath: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const problems: string[] = [];
  const hosts = Array.isArray(config.proxmox_host) ? config.proxmox_host : [config.proxmox_host];
  hosts.forEach((h, i) => {
    const key = Array.isArray(config.proxmox_host) ? `proxmox_host[${i}]` : 'proxmox_host';
    if (isPlaceholderHost(h)) problems.push(`${key} is "${h}", a placeholder: set the name or address of a Proxmox VE node`);
  });
  const file = config.proxmox_api_token_secret_file;
  // A relative file name is a systemd credential: it exists only inside the service (LoadCredential=).
  const credentialElsewhere = !env.PROXBALANCE_TOKEN_SECRET && !config.proxmox_api_token_secret && file && !isAbsolute(file) && !env.CREDENTIALS_DIRECTORY;
  if (!credentialElsewhere) {
    try {
      resolveTokenSecret(config, configPath, env);
    } catch (e) {
      const msg = (e as Error).message.replace(`${configPath}: `, '');
      problems.push(file && !config.proxmox_api_token_secret && !env.PROXBALANCE_TOKEN_SECRET
        ? (msg.startsWith('proxmox_api_token_secret_file') ? msg : `proxmox_api_token_secret_file: ${msg}`)
        : `proxmox_api_token_secret is not set: ${msg.replace(/^no API token secret: /, '')}`);
    }
  }
  return problems;
}
