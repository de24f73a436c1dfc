import winston from 'winston';
import chalk from 'chalk';

/**
 * One logger for the whole program, on stderr (stdout is for the command's output).
 * - Under systemd (JOURNAL_STREAM set): each line starts with its syslog priority (<3> error,
 *   <4> warning, <6> info, <7> debug) and carries no timestamp: the journal adds its own.
 * - On a terminal: time, coloured level, message.
 * - `json`: one JSON object a line, for log shippers.
 * Registered secrets are replaced by *** in every line, whatever the format.
 */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type LogFormat = 'auto' | 'journal' | 'text' | 'json';

const PRIORITY: Record<string, number> = { error: 3, warn: 4, info: 6, debug: 7 };
const secrets = new Set<string>();

export function registerSecret(secret: string | undefined | null): void {
  if (secret && secret.length >= 4) secrets.add(secret);
}

export function redact(text: string): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('***');
  return out;
}

/**
 * Control characters shown escaped (\\n, \\x1b, …): a guest name or a task log line from the
 * cluster cannot forge a log line or drive the terminal.
 */
export function escapeControls(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, (ch) => {
    if (ch === '\n') return '\\n';
    if (ch === '\r') return '\\r';
    if (ch === '\t') return '\\t';
    return `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

function resolveFormat(format: LogFormat): Exclude<LogFormat, 'auto'> {
  if (format !== 'auto') return format;
  if (process.env.JOURNAL_STREAM) return 'journal';
  return 'text';
}

function lineFormat(kind: Exclude<LogFormat, 'auto'>, color: boolean): winston.Logform.Format {
  return winston.format.printf((info) => {
    const { level, message, timestamp: _t, ...rest } = info as Record<string, unknown> & { level: string; message: unknown };
    const raw = redact(String(message));
    const msg = kind === 'json' ? raw : escapeControls(raw);
    if (kind === 'json') {
      return redact(JSON.stringify({ time: new Date().toISOString(), level, message: msg, ...rest }));
    }
    // One message, one line (its line breaks are escaped): journald reads one entry per line.
    if (kind === 'journal') return `<${PRIORITY[level] ?? 6}>${msg}`;
    const time = new Date().toISOString().slice(11, 19);
    let lvl = level.padEnd(5);
    if (color) {
      const paint = level === 'error' ? chalk.red : level === 'warn' ? chalk.yellow : level === 'debug' ? chalk.gray : chalk.cyan;
      lvl = paint(lvl);
    }
    return `${time} ${lvl} ${msg}`;
  });
}

function make(level: LogLevel, format: LogFormat): winston.Logger {
  const kind = resolveFormat(format);
  const color = kind === 'text' && Boolean(process.stderr.isTTY) && !process.env.NO_COLOR;
  return winston.createLogger({
    level,
    levels: { error: 0, warn: 1, info: 2, debug: 3 },
    format: lineFormat(kind, color),
    transports: [new winston.transports.Stream({ stream: process.stderr })],
  });
}

let current = make('info', 'auto');

export function configureLogger(opts: { level?: LogLevel; format?: LogFormat }): void {
  current = make(opts.level ?? 'info', opts.format ?? 'auto');
}

export const log = {
  error: (msg: string, meta?: Record<string, unknown>) => current.log('error', msg, meta ?? {}),
  warn: (msg: string, meta?: Record<string, unknown>) => current.log('warn', msg, meta ?? {}),
  info: (msg: string, meta?: Record<string, unknown>) => current.log('info', msg, meta ?? {}),
  debug: (msg: string, meta?: Record<string, unknown>) => current.log('debug', msg, meta ?? {}),
  /** Waits until every line written so far has reached stderr (call before exiting). */
  flush: () => new Promise<void>((resolve) => { if (process.stderr.writableLength === 0) resolve(); else process.stderr.once('drain', () => resolve()); }),
};
