import { request, type Agent } from 'node:https';

// Closed-loop load for the code benches: `concurrency` workers each send one request after the other until
// `total` were sent; the latencies, failures and wall time of that round, and their summary over rounds.

export interface Sample {
  latencies: number[];
  failed: number;
  seconds: number;
}

/** Runs `send` `total` times from `concurrency` workers; `send` resolves to whether the answer was the expected one. */
export async function measure(
  send: (i: number) => Promise<boolean>,
  total: number,
  concurrency: number,
): Promise<Sample> {
  const latencies: number[] = [];
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const started = performance.now();
      const ok = await send(i);
      latencies.push(performance.now() - started);
      if (!ok) failed++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latencies, failed, seconds: (performance.now() - started) / 1000 };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function summary(samples: Sample[]) {
  const latencies = samples.flatMap((s) => s.latencies).sort((a, b) => a - b);
  const seconds = samples.reduce((sum, s) => sum + s.seconds, 0);
  return {
    requests: latencies.length,
    failed: samples.reduce((sum, s) => sum + s.failed, 0),
    seconds: round(seconds),
    codesPerSecond: round(latencies.length / seconds),
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
  };
}

export const round = (n: number) => Math.round(n * 100) / 100;

/** GET the code of account `shared` in `namespace` from the direct endpoint on `port`; resolves to the status. */
export function getCode(agent: Agent, port: number, namespace: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: `/v1/namespaces/${namespace}/managedaccountmfas/shared/code`,
        agent,
        headers: { authorization: `Bearer ${token}` },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}
