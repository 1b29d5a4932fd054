// The real one-node cluster (test/cluster), N times from nothing: seconds to a Ready node (the
// image already in containerd after the first start), to a first Job Complete (a restricted pod
// of the image running `node -e ''`), and to a stopped cluster with the host put back. As root:
//   node bench/cluster-start.ts [runs=3]
import { loadavg } from 'node:os';
import { IMAGE } from '../test/image/image.ts';
import { startCluster } from '../test/cluster/cluster.ts';
import { runNodeJob } from '../test/cluster/pod-runner.ts';

const runs = Number(process.argv[2] ?? '3');
if (!Number.isInteger(runs) || runs < 1) throw new Error('usage: node bench/cluster-start.ts [runs >= 1]');

const seconds = (since: number) => Number(((Date.now() - since) / 1000).toFixed(2));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const results: Array<{ ready: number; firstJobComplete: number; stop: number }> = [];
const load = [loadavg()[0]!.toFixed(1)];
for (let i = 0; i < runs; i++) {
  const started = Date.now();
  const cluster = await startCluster({ images: [IMAGE] });
  const ready = seconds(started);
  const jobStarted = Date.now();
  const run = await runNodeJob(cluster, 'default', `bench-${i}`, IMAGE, '');
  if (run.job.status?.succeeded !== 1) throw new Error(`bench Job ${i} did not succeed`);
  const firstJobComplete = seconds(jobStarted);
  const stopping = Date.now();
  await cluster.stop();
  results.push({ ready, firstJobComplete, stop: seconds(stopping) });
  load.push(loadavg()[0]!.toFixed(1));
}
console.log(
  JSON.stringify(
    {
      image: IMAGE,
      runs: results,
      loadAverage1m: load,
      median: {
        ready: median(results.map((r) => r.ready)),
        firstJobComplete: median(results.map((r) => r.firstJobComplete)),
        stop: median(results.map((r) => r.stop)),
      },
    },
    null,
    2,
  ),
);
