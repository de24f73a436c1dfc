/** The Proxmox VE client, task helpers and snapshot builder (what src/executor and src/cli use). */
export { PveClient, clientOptionsFromConfig, normalizeFingerprint, normalizePrecondition } from './client.js';
export type { PveClientOptions, PveLogger, MigrateOptions, FindTaskOptions } from './client.js';
export { PveError, PveApiError, PveTlsError, PveNetworkError, PveMigrationUnknownError, parsePermissionMessage } from './errors.js';
export { parseUpid, formatUpid, type Upid } from './upid.js';
export { parseSize, parseDuration, parseLogLine, summarizeMigrationLog } from './tasklog.js';
export type { TaskLogLine, TaskLogPage, MigrationLogEvent, MigrationProgress, ParsedLogLine } from './tasklog.js';
export { takeSnapshot, buildSnapshot, type SnapshotInput, parseTags, parsePropertyString, averageRrd, lrmState } from './snapshot.js';
export * from './types.js';
