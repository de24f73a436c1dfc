/**
 * Runs the fake Proxmox VE until interrupted:
 *   node dist/test/fake-pve/main.js [--scenario demo|small|PATH] [--generate NODES:GUESTS[:SEED]]
 *        [--port 8006] [--ms-per-second 1000] [--secret S] [--token-id ID]
 * Prints how to connect (a config snippet with the CA file and fingerprint).
 */
import { parseArgs } from 'node:util';
import { connectionConfig, startFakePve } from './server.js';

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'demo' },
    generate: { type: 'string' },
    port: { type: 'string', default: '8006' },
    'ms-per-second': { type: 'string', default: '1000' },
    secret: { type: 'string' },
    'token-id': { type: 'string' },
    seed: { type: 'string' },
  },
});

const gen = values.generate?.split(':').map(Number);
const fake = await startFakePve({
  ...(gen ? { generate: { nodes: gen[0]!, guests: gen[1]!, seed: gen[2] ?? 1 } } : { scenario: values.scenario! }),
  port: Number(values.port),
  msPerSecond: Number(values['ms-per-second']),
  authFailDelayMs: 1000,
  ...(values.secret ? { tokenSecret: values.secret } : {}),
  ...(values['token-id'] ? { tokenId: values['token-id'] } : {}),
});
const config = connectionConfig(fake);
process.stdout.write(
  `fake Proxmox VE listening on ${fake.url} (${fake.state.nodes.length} nodes, ${fake.state.guests.length} guests)\n` +
    `certificate SHA-256 fingerprint: ${fake.fingerprint}\n` +
    `config for proxbalance (test-only secret):\n${JSON.stringify(config, null, 2)}\n` +
    `or: PROXBALANCE_TOKEN_SECRET=${fake.tokenSecret}\nCtrl-C stops it.\n`,
);
const stop = () => void fake.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
