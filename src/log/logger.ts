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

function resolveFormat(format: LogFormat): Exclude<LogFormat, 'auto'> {
  if (format !== 'auto') return format;
  if (process.env.JOURNAL_STREAM) return 'journal';
  return 'text';
}

function lineFormat(kind: Exclude<LogFormat, 'auto'>, color: boolean): winston.Logform.Format {
  return winston.format.printf((info) => {
    const { level, message, timestamp: _t, ...rest } = info as Record<string, unknown> & { level: string; message: unknown };
    const msg = redact(String(message));
    if (kind === 'json') {
      return redact(JSON.stringify({ time: new Date().toISOString(), level, message: msg, ...rest }));
    }
    // journald reads one entry per line: every line of a multi-line message carries the priority,
    // so `journalctl -p err` shows all of an error, not only its first line.
    if (kind === 'journal') return msg.split('\n').map((l) => `<${PRIORITY[level] ?? 6}>${l}`).join('\n');
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
