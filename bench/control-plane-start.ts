// Seconds from startControlPlane() to a kube-apiserver answering /readyz (certificates, etcd,
// kube-apiserver), median of N cold starts, each stopped before the next:
//   node bench/control-plane-start.ts [runs=5]
import { readFileSync } from 'node:fs';
import { startControlPlane } from '../test/envtest/control-plane.ts';

const runs = Number(process.argv[2] ?? '5');
if (!Number.isInteger(runs) || runs < 1) throw new Error('usage: node bench/control-plane-start.ts [runs >= 1]');

const secondsToReady: number[] = [];
const secondsToStop: number[] = [];
for (let run = 0; run < runs; run++) {
  const started = performance.now();
  const plane = await startControlPlane();
  secondsToReady.push((performance.now() - started) / 1000);
  const stopping = performance.now();
  await plane.stop();
  secondsToStop.push((performance.now() - stopping) / 1000);
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};
const round = (value: number): number => Math.round(value * 100) / 100;
const kubernetesVersion = readFileSync(
  new URL('../hack/control-plane/KUBERNETES_VERSION', import.meta.url),
  'utf8',
).trim();

console.log(
  JSON.stringify(
    {
      benchmark: 'control-plane-start',
      kubernetesVersion,
      runs,
      medianSecondsToReady: round(median(secondsToReady)),
      secondsToReady: secondsToReady.map(round),
      medianSecondsToStop: round(median(secondsToStop)),
    },
    null,
    2,
  ),
);
