import { Command } from 'commander';
import { userInfo } from 'node:os';
import { appendRecord, readHistory } from '../history/store.js';
import { readHistoryTail } from '../history/tail.js';
import { activeHalt } from '../history/views.js';
import { acquireLock } from '../history/lock.js';
import { haltMessage } from '../history/queries.js';
import { guestRef } from '../util/guest.js';
import { log } from '../log/logger.js';
import { announceResumed } from '../notify/notifier.js';
import { updateMetricsFile } from '../metrics/file.js';
import type { HistoryRecord } from '../history/store.js';
import { loadFromOptions, out, withCommon, type CommonOptions } from './common.js';

export function resumeCommand(): Command {
  return withCommon(new Command('resume'))
    .description('lift the halt that a failed migration put on automation (abort_on_failure)')
    .action(async (opts: CommonOptions) => {
      const loaded = loadFromOptions(opts);
      const path = loaded.config.history_file;
      const lock = await acquireLock(path);
      try {
        // The halt in force is carried by the last run record: the end of the file is enough.
        const { records, warnings } = readHistoryTail(path, { sinceMs: Date.now(), checkpoint: true });
        for (const w of warnings) log.warn(w);
        const halt = activeHalt(records);
        if (!halt) {
          out('automation is not halted: nothing to resume');
          return;
        }
        let by: string | undefined;
        try { by = userInfo().username; } catch { /* no passwd entry */ }
        const append = (r: HistoryRecord) => {
          appendRecord(path, r);
          records.push(r);
        };
        append({ v: 1, type: 'resumed', at: new Date().toISOString(), ...(by ? { by } : {}) });
        log.info(`automation resumed (was: ${haltMessage(halt)})`);
        out(`resumed: automation was halted after the failed migration of ${guestRef(halt.vmid, halt.guest_type ?? 'qemu')} at ${halt.at} (${halt.error})`);
        await announceResumed(loaded, halt, by, append);
        if (loaded.config.metrics_file) await updateMetricsFile(loaded.config, (await readHistory(path)).records, null);
      } finally {
        await lock.release();
      }
    });
}
