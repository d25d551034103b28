import { parseArgs } from 'node:util';
import { createMailchimpSandbox } from './server.js';

/**
 * Runs the sandbox on its own, for a demo or a benchmark in another process:
 *   npx tsx src/connectors/mailchimp/sandbox/main.ts --port 4010 --per-second 8
 * then MAILCHIMP_BASE_URL=http://127.0.0.1:4010/3.0. The key and audience come from
 * MAILCHIMP_API_KEY and MAILCHIMP_LIST_ID (or --api-key, --list), so config/mailchimp.example.yaml
 * works against it unchanged. `--port 0` picks a free port (read it from the first line). On
 * SIGINT/SIGTERM it prints its statistics as one JSON line and exits.
 */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4010' },
    'per-second': { type: 'string' },
    'max-connections': { type: 'string', default: '10' },
    latency: { type: 'string', default: '0' },
    /** Also print every request's arrival (epoch ms), route and status when stopped. */
    log: { type: 'boolean', default: false },
    'api-key': {
      type: 'string',
      default: process.env.MAILCHIMP_API_KEY ?? '00000000000000000000000000000000-us1',
    },
    list: { type: 'string', default: process.env.MAILCHIMP_LIST_ID ?? 'a1b2c3d4e5' },
  },
});

const number = (name: string, text: string | undefined) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`--${name} must be a whole number ≥ 0, got ${JSON.stringify(text)}`);
  return n;
};

const sandbox = createMailchimpSandbox({
  limits: {
    perSecond: values['per-second'] === undefined ? null : number('per-second', values['per-second']),
    maxConnections: number('max-connections', values['max-connections']),
    latencyMs: number('latency', values.latency),
  },
});
sandbox.addAccount(values['api-key'], 'demo');
sandbox.addAudience({ id: values.list, apiKey: values['api-key'], name: 'Demo audience' });
const { url } = await sandbox.start({ port: number('port', values.port) });
process.stdout.write(`Mailchimp sandbox on ${url} (audience ${values.list}); Ctrl-C stops it\n`);

/** `POST /lists/{id}: 40`: what the requests were, member hashes folded together. */
const routeOf = (e: { method: string; path: string }) =>
  `${e.method} ${e.path.replace(/[0-9a-f]{32}/g, '{hash}')}`;
const requestsByRoute = () => {
  const counts: Record<string, number> = {};
  for (const e of sandbox.traffic.log) counts[routeOf(e)] = (counts[routeOf(e)] ?? 0) + 1;
  return counts;
};

const stop = () => {
  const stats = sandbox.stats();
  process.stdout.write(
    `\n${JSON.stringify({
      ...stats,
      // Requests to the API, as Mailchimp counts them: batch results are downloaded from
      // storage outside it (logged without an account), and count against no budget.
      maxRequestsInOneSecond: sandbox.traffic.maxInWindow(1000, (e) => e.account !== null),
      members: sandbox.audience(values.list).members.size,
      requestsByRoute: requestsByRoute(),
      ...(values.log ? { log: sandbox.traffic.log.map((e) => [e.at, routeOf(e), e.status]) } : {}),
    })}\n`,
  );
  void sandbox.stop().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
