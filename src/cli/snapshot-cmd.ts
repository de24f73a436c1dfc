import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { log, redact, registerSecret } from '../log/logger.js';
import { resolveTokenSecret } from '../config/load.js';
import { ConfigError } from '../util/errors.js';
import { PveClient, clientOptionsFromConfig } from '../pve/client.js';
import { PveError } from '../pve/errors.js';
import { takeSnapshot } from '../pve/snapshot.js';
import { loadFromOptions, out, withCommon, type CommonOptions } from './common.js';

interface SnapshotOptions extends CommonOptions {
  output?: string;
}

/** `proxbalance snapshot [--output FILE]`: what one tick would see, as JSON (never a secret). */
export function snapshotCommand(): Command {
  return withCommon(
    new Command('snapshot')
      .description('read the cluster once and write the snapshot the balancer plans from, as JSON (for bug reports and replays; holds no secret)')
      .option('-o, --output <file>', 'write to FILE instead of stdout'),
  ).action(async (opts: SnapshotOptions) => {
    const loaded = loadFromOptions(opts);
    const secret = resolveTokenSecret(loaded.config, loaded.path);
    registerSecret(secret);
    let client: PveClient;
    try {
      client = new PveClient(clientOptionsFromConfig(loaded.config, secret, log));
    } catch (e) {
      if (e instanceof PveError) throw new ConfigError(`${loaded.path}: ${e.message}`);
      throw e;
    }
    try {
      const snap = await takeSnapshot(client);
      for (const u of snap.unknowns) log.warn(`snapshot: ${u}`);
      const text = redact(`${JSON.stringify(snap, null, 2)}\n`);
      if (opts.output) {
        writeFileSync(opts.output, text, { mode: 0o644 });
        log.info(`snapshot of ${snap.nodes.length} nodes and ${snap.guests.length} guests (${snap.api.requests} API requests to ${snap.api.host}) written to ${opts.output}`);
      } else {
        out(text);
        log.debug(`snapshot: ${snap.api.requests} API requests to ${snap.api.host}`);
      }
    } finally {
      await client.close();
    }
  });
}
