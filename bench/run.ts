import { runPipelineBench } from './cases/pipeline.js';

/**
 * `npm run bench [-- CASE…]`: runs the benchmark cases (all by default) and prints one JSON
 * line per case. Figures and method are recorded in docs/benchmarks.md.
 */
const cases: Record<string, () => Promise<Record<string, unknown>>> = {
  pipeline: () => runPipelineBench(),
  hubspot: () => import('./cases/hubspot.js').then((m) => m.runHubSpotBench()),
  mailchimp: () => import('./cases/mailchimp.js').then((m) => m.runMailchimpBench()),
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !(w in cases));
if (unknown.length > 0) {
  process.stderr.write(
    `unknown bench case(s): ${unknown.join(', ')}; known: ${Object.keys(cases).join(', ')}\n`,
  );
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : Object.keys(cases)) {
  const result = await cases[name]!();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
process.exit(0);
