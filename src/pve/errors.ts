/**
 * Typed errors of the Proxmox VE client. Messages name what failed and what to do; none carries
 * the API token secret (the client never puts it in a message, and tests assert it).
 */

/** Base class: everything the client throws on purpose. */
export class PveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PveError';
  }
}

/** The API answered with an HTTP error status. */
export class PveApiError extends PveError {
  constructor(
    message: string,
    /** HTTP status (400, 401, 403, 500, 501, 503, …). */
    readonly status: number,
    readonly method: string,
    /** API path below /api2/json, without the query. */
    readonly path: string,
    /** Proxmox's own message (status line or body `message`), without the trailing newline. */
    readonly pveMessage: string,
    /** Parameter errors of a 400 (`errors: {param: msg}`), when given. */
    readonly errors: Record<string, string> | null,
    /** The host that answered. */
    readonly host: string,
  ) {
    super(message);
    this.name = 'PveApiError';
  }

  /** For a 403: the privilege Proxmox says is missing ("Permission check failed (/vms/100, VM.Migrate)"). */
  get privilege(): string | null {
    return parsePermissionMessage(this.pveMessage)?.privilege ?? null;
  }
}

/** The server's certificate was not accepted. */
export class PveTlsError extends PveError {
  constructor(
    message: string,
    readonly host: string,
    /** SHA-256 fingerprint of the certificate the server presented (colon hex, upper case), when seen. */
    readonly fingerprint: string | null,
    /** OpenSSL's reason code (SELF_SIGNED_CERT_IN_CHAIN, …) or FINGERPRINT_MISMATCH. */
    readonly reason: string,
  ) {
    super(message);
    this.name = 'PveTlsError';
  }
}

/** No answer: connection refused, reset, timed out, name not resolved (after retries and failover). */
export class PveNetworkError extends PveError {
  constructor(
    message: string,
    readonly host: string,
    /** ECONNREFUSED, ECONNRESET, ETIMEDOUT, ENOTFOUND, UND_ERR_SOCKET, … */
    readonly code: string,
    /** True when the request may have reached the server (sent, then the answer was lost). */
    readonly maybeReceived: boolean,
  ) {
    super(message);
    this.name = 'PveNetworkError';
  }
}

/**
 * A POST that starts a migration lost its answer: the migration may have started. Never retried;
 * look for the task (findMigrationTask) before trying again.
 */
export class PveMigrationUnknownError extends PveError {
  constructor(
    message: string,
    readonly node: string,
    readonly vmid: number,
    readonly target: string,
    /** Unix seconds just before the POST was sent: a task started after it may be ours. */
    readonly sentAt: number,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'PveMigrationUnknownError';
  }
}

/** "Permission check failed (/vms/100, VM.Migrate)" → {path, privilege}. */
export function parsePermissionMessage(msg: string): { path: string; privilege: string } | null {
  const m = /Permission check failed \(([^,()]+),\s*([^()]+)\)/.exec(msg);
  if (!m) return null;
  return { path: m[1]!.trim(), privilege: m[2]!.trim() };
}
