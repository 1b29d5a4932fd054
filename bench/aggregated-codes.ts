// Codes through kube-apiserver (the APIService codes.mfa-operator.io) against the code service's direct endpoint,
// in alternating rounds on the local control plane with its front proxy, each driven by the same closed-loop client
// (keep-alive, `--concurrency` workers). Floors in the same run: the bare code server of bench/totp-floor.ts (what
// any code service costs at least) and a request kube-apiserver answers itself for the same user, a SelfSubjectReview
// (what any request through the API server costs, without the aggregator's hop to the operator).
// Usage: node bench/aggregated-codes.ts [--requests 2000] [--concurrency 8]     (prints JSON)
import { Agent } from 'node:https';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { aggregatedAccountPath } from '../operator/codes/aggregated-group.ts';
import { apiServerPoster, grant, startAggregatedApi } from '../test/codes/aggregated-api-setup.ts';
import { CodeServiceFixture } from '../test/codes/code-service-fixture.ts';
import { randomSeed } from '../test/stores/random-material.ts';
import { getCode, measure, round, summary, type Sample } from './latency.ts';
import { startFloor } from './totp-floor.ts';

const { values } = parseArgs({
  options: { requests: { type: 'string', default: '2000' }, concurrency: { type: 'string', default: '8' } },
});
const REQUESTS = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
const ROUNDS = 10;
const NS = 'bench';
const UNLIMITED = { ratePerMinute: 1e9, burst: 1e9 };
const TARGETS = ['floor', 'direct', 'apiServerFloor', 'aggregated'] as const;

const fixture = new CodeServiceFixture();
let floor: Awaited<ReturnType<typeof startFloor>> | undefined;
try {
  const { aggregated, servingCa } = await startAggregatedApi(fixture, UNLIMITED);
  await fixture.namespace(NS);
  const seed = randomSeed();
  await fixture.account(NS, 'shared', seed);
  const token = await fixture.serviceAccountToken(NS, 'caller');
  await fixture.allowCodes(NS, 'caller', ['shared']);
  const post = await apiServerPoster(await fixture.cp.createUser('bench-user', ['team']));
  await grant(fixture, NS, 'bench-user', {
    name: 'bench-codes',
    group: 'codes.mfa-operator.io',
    verb: 'create',
    subresource: 'code',
  });
  floor = await startFloor(fixture.serving, [token], seed);
  const codePath = aggregatedAccountPath({ namespace: NS, name: 'shared' }, 'code');
  const review = JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
  const floorPort = floor.port;
  const agents: Agent[] = [];
  const agent = (ca?: string) => {
    agents.push(new Agent({ keepAlive: true, maxSockets: CONCURRENCY, ...(ca ? { ca } : {}) }));
    return agents.at(-1)!;
  };
  const [floorAgent, directAgent, apiAgent, aggregatedAgent] = [agent(fixture.ca), agent(servingCa), agent(), agent()];
  const send: Record<(typeof TARGETS)[number], () => Promise<boolean>> = {
    floor: async () => (await getCode(floorAgent, floorPort, NS, token)) === 200,
    direct: async () => (await getCode(directAgent, aggregated.port, NS, token)) === 200,
    apiServerFloor: async () =>
      (await post('/apis/authentication.k8s.io/v1/selfsubjectreviews', review, apiAgent)).status === 201,
    aggregated: async () => (await post(codePath, '{}', aggregatedAgent)).status === 201,
  };
  // Warm-up: TLS sessions, JIT, the watches' first list, the review caches, the aggregator's proxy transport.
  for (const target of TARGETS) await measure(send[target], 200, CONCURRENCY);
  // Alternating rounds, so a change in the machine's load hits every target alike.
  const samples = Object.fromEntries(TARGETS.map((t) => [t, [] as Sample[]])) as Record<
    (typeof TARGETS)[number],
    Sample[]
  >;
  for (let r = 0; r < ROUNDS; r++)
    for (const target of TARGETS) samples[target].push(await measure(send[target], REQUESTS / ROUNDS, CONCURRENCY));
  for (const a of agents) a.destroy();
  const results = Object.fromEntries(TARGETS.map((t) => [t, summary(samples[t])])) as Record<
    (typeof TARGETS)[number],
    ReturnType<typeof summary>
  >;
  const versus = (a: ReturnType<typeof summary>, b: ReturnType<typeof summary>) => ({
    codesPerSecond: round(a.codesPerSecond / b.codesPerSecond),
    p50: round(a.p50Ms / b.p50Ms),
    p99: round(a.p99Ms / b.p99Ms),
  });
  process.stdout.write(
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.version,
        loadAverage: loadavg().map((l) => Math.round(l * 10) / 10),
        concurrency: CONCURRENCY,
        rounds: ROUNDS,
        ...results,
        aggregatedVsDirect: versus(results.aggregated, results.direct),
        aggregatedVsApiServerFloor: versus(results.aggregated, results.apiServerFloor),
        directVsFloor: versus(results.direct, results.floor),
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await floor?.stop();
  await fixture.stop();
}
