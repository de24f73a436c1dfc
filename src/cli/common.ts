import { Command, Option } from 'commander';
import { configureLogger, log, redact, registerSecret, type LogFormat, type LogLevel } from '../log/logger.js';
import { loadConfig, resolveConfigPath, type LoadedConfig } from '../config/load.js';

export interface CommonOptions {
  config?: string;
  verbose?: boolean;
  quiet?: boolean;
  logFormat?: LogFormat;
}

/** Adds the options every subcommand takes. */
export function withCommon(cmd: Command): Command {
  return cmd
    .option('-c, --config <path>', 'config file (default: $PROXBALANCE_CONFIG or /opt/proxmox-balance-manager/config.json)')
    .option('-v, --verbose', 'log debug lines too')
    .option('-q, --quiet', 'log warnings and errors only')
    .addOption(new Option('--log-format <format>', 'log line format').choices(['auto', 'journal', 'text', 'json']).default('auto'));
}

function levelFor(opts: CommonOptions, fromConfig?: LogLevel): LogLevel {
  if (opts.verbose) return 'debug';
  if (opts.quiet) return 'warn';
  return fromConfig ?? 'info';
}

/** Sets up logging from the flags alone (for commands that need no config). */
export function setupLogging(opts: CommonOptions, fromConfig?: LogLevel): void {
  configureLogger({ level: levelFor(opts, fromConfig), format: opts.logFormat ?? 'auto' });
}

/** Loads the config named by the flags, logs its warnings, and sets the log level it asks for. */
export function loadFromOptions(opts: CommonOptions): LoadedConfig {
  setupLogging(opts);
  const loaded = loadConfig(resolveConfigPath(opts.config));
  registerSecret(loaded.config.proxmox_api_token_secret);
  registerSecret(process.env.PROXBALANCE_TOKEN_SECRET);
  setupLogging(opts, loaded.config.log_level);
  for (const w of loaded.warnings) log.warn(w);
  if (loaded.ignored.length) log.debug(`${loaded.path}: keys not used by proxbalance, ignored: ${loaded.ignored.join(', ')}`);
  return loaded;
}

let pipeWatched = false;

/**
 * Writes command output to stdout. When the reader goes away (`proxbalance history --csv | head`)
 * the command ends quietly instead of dying on EPIPE with a stack trace.
 */
export function out(text: string): void {
  if (!pipeWatched) {
    pipeWatched = true;
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      throw e;
    });
  }
  // The token secret never reaches stdout either, whatever carried it (a task log line, an old record).
  const shown = redact(text);
  process.stdout.write(shown.endsWith('\n') ? shown : `${shown}\n`);
}
