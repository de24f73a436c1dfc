/**
 * The built-in demo (README's first command, `npm run demo`): starts the fake Proxmox VE on
 * loopback with a skewed 3-node cluster, writes a config for it, and runs the real CLI: a dry run
 * (gates, plan, reasons), a live tick against the fake, the history, and the HTML report (its path
 * printed last). No Proxmox needed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BIN } from './helpers/cli.js';
import { connectionConfig, startFakePve } from './fake-pve/server.js';

const fake = await startFakePve({ scenario: 'demo', msPerSecond: 150 });
const dir = mkdtempSync(join(tmpdir(), 'proxbalance-demo-'));
const configPath = join(dir, 'config.json');
writeFileSync(configPath, JSON.stringify({
  ...connectionConfig(fake),
  history_file: join(dir, 'history.jsonl'),
  automated_migrations: { enabled: true, dry_run: false },
}, null, 2), { mode: 0o600 });

const bold = process.stdout.isTTY && !process.env.NO_COLOR;
const say = (text: string) => process.stdout.write(bold ? `\n\x1b[1m▶ ${text}\x1b[0m\n` : `\n▶ ${text}\n`);
const cli = async (args: string[]) => {
  say(`proxbalance ${args.join(' ')}`);
  // The fake runs in this process: the CLI must run beside it, not block it.
  await new Promise<void>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args, '--config', configPath], { stdio: 'inherit', env: { ...process.env, PROXBALANCE_POLL_MS: '250' } });
    child.on('close', () => resolve());
  });
};

process.stdout.write(`Demo cluster: fake Proxmox VE at ${fake.url} (${fake.state.nodes.length} nodes, ${fake.state.guests.length} guests), config ${configPath}\n`);
await cli(['run', '--dry-run']);
await cli(['run']);
const where = fake.state.nodes.map((n) => `${n.name}: ${fake.state.guests.filter((g) => g.node === n.name).map((g) => g.vmid).join(' ')}`).join('\n  ');
say('where the guests are now');
process.stdout.write(`  ${where}\n`);
await cli(['history']);
const report = join(dir, 'report.html');
await cli(['report', '--output', report]);
process.stdout.write(`\nHistory file: ${join(dir, 'history.jsonl')}. Try: ./bin/proxbalance history --csv --config ${configPath}\n`);
process.stdout.write(`Report (open it in a browser): ${report}\n  ${pathToFileURL(report).href}\n`);
await fake.close();
