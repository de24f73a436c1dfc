#!/usr/bin/env node
// Writes proxbalance(1), the man page, to stdout from the CLI's own help: every command, its
// arguments and options with their descriptions, as commander knows them. The page never drifts
// from `proxbalance --help` because it is made from the same definitions.
//
//   node scripts/gen-man.mjs [path/to/dist/src/cli/main.js]   (default: this checkout's dist)
import { pathToFileURL } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mainJs = resolve(process.argv[2] ?? join(root, 'dist', 'src', 'cli', 'main.js'));
const { buildProgram } = await import(pathToFileURL(mainJs).href);
const program = await buildProgram();

/** roff-safe text: backslashes, hyphens (as minus signs in options) and a leading dot or quote. */
const esc = (s) => String(s).replace(/\\/g, '\\e').replace(/-/g, '\\-').replace(/^([.'])/gm, '\\&$1');
const epoch = Number(process.env.SOURCE_DATE_EPOCH) || Math.floor(Date.now() / 1000);
const date = new Date(epoch * 1000).toISOString().slice(0, 10);
const lines = [];
const L = (...x) => lines.push(...x);

L(`.TH PROXBALANCE 1 "${date}" "proxbalance ${esc(program.version())}" "User Commands"`);
L('.SH NAME', `proxbalance \\- ${esc(program.description().replace(/\.$/, ''))}`);
L('.SH SYNOPSIS', '.B proxbalance', '.I command', '[\\fIoptions\\fR]');
L('.SH DESCRIPTION',
  esc('A one-shot CLI, started every minute by proxmox-balance-automigrate.timer: each tick reads the config, reads the cluster through the Proxmox VE API, decides, migrates (or only simulates with --dry-run) and appends what happened to the history. The other commands read, check and explain.'));

function options(cmd) {
  for (const o of cmd.options) {
    L('.TP', `.B ${esc(o.flags)}`);
    const extra = [];
    if (o.argChoices) extra.push(`one of: ${o.argChoices.join(', ')}`);
    if (o.defaultValue !== undefined && typeof o.defaultValue !== 'boolean') extra.push(`default: ${o.defaultValue}`);
    L(esc(`${o.description}${extra.length ? ` (${extra.join('; ')})` : ''}`));
  }
}

function command(cmd, prefix) {
  const name = `${prefix}${cmd.name()}`;
  if (cmd.commands.length && !cmd.options.length) {
    for (const sub of cmd.commands) command(sub, `${name} `);
    return;
  }
  const args = cmd.registeredArguments.map((a) => (a.required ? `<${a.name()}${a.variadic ? '...' : ''}>` : `[${a.name()}${a.variadic ? '...' : ''}]`)).join(' ');
  L('.SS', `.B ${esc(`proxbalance ${name}`)}${args ? ` ${esc(args)}` : ''} [options]`);
  L(esc(cmd.description()));
  for (const a of cmd.registeredArguments) {
    if (a.description) L('.TP', `.I ${esc(a.name())}`, esc(a.description));
  }
  options(cmd);
}

L('.SH COMMANDS');
for (const cmd of program.commands) command(cmd, '');
L('.SH "EXIT STATUS"', '0 done (also a tick skipped by design), 1 runtime failure, 2 usage or configuration error.');
L('.SH ENVIRONMENT',
  '.TP', '.B PROXBALANCE_CONFIG', 'the config file when \\-\\-config is not given',
  '.TP', '.B PROXBALANCE_TOKEN_SECRET', 'the API token secret; overrides the config');
L('.SH FILES',
  '.TP', '.I /opt/proxmox\\-balance\\-manager/config.json', 'the configuration (ProxBalance\'s layout)',
  '.TP', '.I /var/lib/proxbalance/history.jsonl', 'the history: every run and migration, append only',
  '.TP', '.I /usr/share/doc/proxbalance/docs/', 'installation, configuration, operation and monitoring guides');
L('.SH "SEE ALSO"', '.BR systemctl (1),', '.BR journalctl (1),', '.BR pvesh (1)');
process.stdout.write(`${lines.join('\n')}\n`);
