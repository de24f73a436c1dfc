import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir, type CliResult } from './cli.js';
import { connectionConfig, startFakePve, type FakePve, type FakePveOptions } from '../fake-pve/server.js';
import type { HistoryRecord } from '../../src/history/store.js';

/** A fake cluster, a config pointing at it (TLS verified with its CA file) and a temp history. */
export interface E2E {
  fake: FakePve;
  dir: string;
  configPath: string;
  historyPath: string;
  run(args: string[], env?: Record<string, string>): Promise<CliResult>;
  records(): HistoryRecord[];
  cleanup(): Promise<void>;
}

export async function setupE2E(fakeOpts: FakePveOptions, automated: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<E2E> {
  const fake = await startFakePve({ msPerSecond: 5, ...fakeOpts });
  const { dir, cleanup } = tempDir('proxbalance-e2e-');
  const configPath = join(dir, 'config.json');
  const historyPath = join(dir, 'history.jsonl');
  const config = {
    ...connectionConfig(fake),
    history_file: historyPath,
    automated_migrations: { enabled: true, dry_run: false, ...automated },
    ...extra,
  };
  writeFileSync(configPath, JSON.stringify(config, null, 2), { mode: 0o600 });
  return {
    fake, dir, configPath, historyPath,
    run: (args, env = {}) => runCli([...args, '--config', configPath], { env: { PROXBALANCE_POLL_MS: '25', ...env } }),
    records: () => (existsSync(historyPath) ? readFileSync(historyPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as HistoryRecord) : []),
    cleanup: async () => {
      await fake.close();
      cleanup();
    },
  };
}
