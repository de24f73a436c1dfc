import { Command } from 'commander';
import { paint } from './style.js';
import { runDoctor } from '../doctor/doctor.js';
import { loadFromOptions, out, withCommon, type CommonOptions } from './common.js';

export function doctorCommand(): Command {
  return withCommon(new Command('doctor'))
    .description('check config, connection, TLS, token, privileges, quorum, CRS and the history file; exit 1 if a check fails')
    .option('--json', 'print the checks as JSON')
    .action(async (opts: CommonOptions & { json?: boolean }) => {
      const loaded = loadFromOptions(opts);
      const checks = await runDoctor(loaded);
      const failed = checks.some((c) => c.status === 'fail');
      if (opts.json) out(JSON.stringify({ ok: !failed, checks }, null, 2));
      else {
        const c = paint();
        const mark = { pass: c.green('pass'), warn: c.yellow('warn'), fail: c.red('FAIL') };
        out(checks.map((k) => `${mark[k.status]}  ${k.name.padEnd(22)} ${k.message}${k.fix ? `\n      fix: ${k.fix}` : ''}`).join('\n'));
        out(failed ? 'some checks failed' : 'all checks passed');
      }
      process.exitCode = failed ? 1 : 0;
    });
}
