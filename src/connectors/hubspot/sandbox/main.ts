import { parseArgs } from 'node:util';
import { HubSpotSandbox } from './hubspot-sandbox.js';

/**
 * Runs the HubSpot sandbox on its own, for a demo or a benchmark in another process:
 *   npx tsx src/connectors/hubspot/sandbox/main.ts --port 4020 --max 80 --per-ms 10000
 * then HUBSPOT_BASE_URL=http://127.0.0.1:4020, so config/hubspot.example.yaml works against it
 * unchanged. `GET /__sandbox/stats` answers the traffic figures; Ctrl-C prints them too.
 */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4020' },
    max: { type: 'string', default: '80' },
    'per-ms': { type: 'string', default: '10000' },
    'search-per-second': { type: 'string', default: '5' },
    daily: { type: 'string', default: '250000' },
    latency: { type: 'string', default: '0' },
    'retry-after': { type: 'boolean', default: false },
    token: { type: 'string' },
  },
});

const number = (name: string, text: string | undefined) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`--${name} must be a whole number ≥ 0, got ${JSON.stringify(text)}`);
  return n;
};

const sandbox = new HubSpotSandbox({
  rateLimit: { max: number('max', values.max), perMs: number('per-ms', values['per-ms']) },
  searchLimit: { max: number('search-per-second', values['search-per-second']), perMs: 1000 },
  dailyLimit: number('daily', values.daily),
  retryAfterHeader: values['retry-after'],
  accessToken: values.token,
  port: number('port', values.port),
});
sandbox.faults.latencyMs = number('latency', values.latency);
const { url } = await sandbox.start();
process.stdout.write(
  `HubSpot sandbox on ${url} (${values.max} requests per ${values['per-ms']} ms); Ctrl-C stops it\n`,
);

const stop = () => {
  process.stdout.write(`\n${JSON.stringify(sandbox.stats())}\n`);
  void sandbox.stop().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
