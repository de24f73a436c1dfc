import { Command } from 'commander';
import { resolveConfigPath } from '../config/load.js';
import { applyPreset, exampleConfig, parseValue, PRESETS, setKey } from '../config/edit.js';
import { writeConfigAtomic } from '../config/write.js';
import { log } from '../log/logger.js';
import { readinessProblems } from '../config/ready.js';
import { ConfigError } from '../util/errors.js';
import { loadFromOptions, out, setupLogging, withCommon, type CommonOptions } from './common.js';
import { isSecretKey, MASK, masked, unimplementedWarning } from '../config/secrets.js';

/** Flattens an object into `a.b.c = value` lines, marking values that came from defaults. */
function flatten(value: unknown, raw: unknown, prefix: string, lines: string[]): void {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (k.startsWith('_')) continue;
      const r = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>)[k] : undefined;
      flatten(v, r, prefix ? `${prefix}.${k}` : k, lines);
    }
    return;
  }
  lines.push(`${prefix} = ${JSON.stringify(value)}${raw === undefined ? '  (default)' : ''}`);
}

export function configCommand(): Command {
  const cmd = new Command('config').description('check, show and change config.json');

  withCommon(cmd.command('validate'))
    .description('check the config file and that a run could start with it (a token secret that can be read, no placeholder host); exit 0 when ready, 2 when not')
    .action((opts: CommonOptions) => {
      const loaded = loadFromOptions(opts);
      if (loaded.ignored.length) log.warn(unimplementedWarning(loaded.path, loaded.ignored));
      const problems = readinessProblems(loaded.config, loaded.path);
      if (problems.length) throw new ConfigError(problems.map((p) => `${loaded.path}: ${p}`).join('\n'), problems);
      out(`${loaded.path}: valid`);
    });

  withCommon(cmd.command('show'))
    .description('print the effective config, defaults filled in and the token secret masked')
    .option('--json', 'print JSON')
    .action((opts: CommonOptions & { json?: boolean }) => {
      const loaded = loadFromOptions(opts);
      const eff = masked(loaded.config as unknown as Record<string, unknown>);
      if (opts.json) return out(JSON.stringify(eff, null, 2));
      const lines: string[] = [`# ${loaded.path}`];
      flatten(eff, masked(loaded.raw), '', lines);
      out(lines.join('\n'));
    });

  withCommon(cmd.command('init'))
    .description('write an example config.json with every default, each key described; never overwrites')
    .action((opts: CommonOptions) => {
      setupLogging(opts);
      const path = resolveConfigPath(opts.config);
      writeConfigAtomic(path, exampleConfig(), { mustNotExist: true });
      out(`wrote ${path}: set proxmox_host, proxmox_api_token_id and the token secret, then run \`proxbalance config validate\``);
    });

  withCommon(cmd.command('preset').argument('<name>', Object.keys(PRESETS).join('|')))
    .description('apply a preset: conservative (85/1/60), balanced (75/3/30), aggressive (60/5/15) = min confidence / max migrations per run / cooldown minutes')
    .action((name: string, opts: CommonOptions) => {
      const loaded = loadFromOptions(opts);
      const raw = structuredClone(loaded.raw);
      applyPreset(raw, name);
      writeConfigAtomic(loaded.path, raw);
      const p = PRESETS[name as keyof typeof PRESETS];
      log.info(`config preset ${name} written to ${loaded.path}`);
      out(`${loaded.path}: preset ${name}: min_confidence_score ${p.min_confidence_score}, max_migrations_per_run ${p.max_migrations_per_run}, cooldown_minutes ${p.cooldown_minutes}`);
    });

  withCommon(cmd.command('set').argument('<key>', 'dotted key, e.g. automated_migrations.rules.cooldown_minutes').argument('<value>', 'new value (JSON for numbers, booleans and lists)'))
    .description('set one key; the file is checked before it is written')
    .action((key: string, value: string, opts: CommonOptions) => {
      const loaded = loadFromOptions(opts);
      const raw = structuredClone(loaded.raw);
      const parsed = parseValue(key, value);
      setKey(raw, key, parsed);
      writeConfigAtomic(loaded.path, raw);
      const shown = isSecretKey(key) ? MASK : JSON.stringify(parsed);
      out(`${loaded.path}: ${key} = ${shown}`);
    });

  return cmd;
}
