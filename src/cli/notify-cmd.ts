import { Command } from 'commander';
import { buildProviders } from '../notify/providers/index.js';
import { deliver, deliveryTimeoutMs } from '../notify/deliver.js';
import { testMessage } from '../notify/events.js';
import { PROVIDER_NAMES, type ProviderName } from '../notify/types.js';
import { UsageError } from '../util/errors.js';
import { loadFromOptions, out, withCommon, type CommonOptions } from './common.js';

export function notifyCommand(): Command {
  const cmd = new Command('notify').description('notifications (automated_migrations.notifications)');
  withCommon(cmd.command('test').argument('[provider]', PROVIDER_NAMES.join('|')))
    .description('send a test message to every enabled provider, or to the one named (even when not enabled yet); exit 1 when one fails')
    .action(async (name: string | undefined, opts: CommonOptions) => {
      if (name !== undefined && !PROVIDER_NAMES.includes(name as ProviderName)) {
        throw new UsageError(`notify test: unknown provider ${JSON.stringify(name)} (one of ${PROVIDER_NAMES.join(', ')})`);
      }
      const loaded = loadFromOptions(opts);
      const built = buildProviders(loaded.config, deliveryTimeoutMs(), name ? [name as ProviderName] : undefined);
      if (!built.providers.length && !built.broken.length) {
        out('no notification provider is enabled (automated_migrations.notifications.providers.*.enabled)');
        process.exitCode = 1;
        return;
      }
      const results = await deliver(built.providers, testMessage(new Date()));
      let failed = built.broken.length;
      for (const b of built.broken) out(`${b.provider}: not sent: ${b.error}`);
      for (const d of results) {
        if (d.ok) out(`${d.provider}: sent`);
        else {
          failed++;
          out(`${d.provider}: failed: ${d.error}`);
        }
      }
      if (!loaded.config.automated_migrations.notifications.enabled) out('note: automated_migrations.notifications.enabled is false: ticks send nothing until it is true');
      if (failed) process.exitCode = 1;
    });
  return cmd;
}
