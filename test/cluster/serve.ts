// node test/cluster/serve.ts [IMAGE...]: starts the one-node cluster (as root), loads the images,
// prints the admin kubeconfig path and runs until Ctrl-C, then tears everything down.
import { startCluster } from './cluster.ts';

const started = Date.now();
const cluster = await startCluster({
  images: process.argv.slice(2),
  progress: (line) => process.stderr.write(`${line}\n`),
});
process.stderr.write(`cluster ready in ${((Date.now() - started) / 1000).toFixed(1)} s; logs in ${cluster.workDir}\n`);
process.stdout.write(`${cluster.plane.kubeconfigPath}\n`);
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    const began = Date.now();
    cluster.stop().then(
      () => process.stderr.write(`stopped in ${((Date.now() - began) / 1000).toFixed(1)} s\n`),
      (e: unknown) => {
        process.stderr.write(`teardown failed: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exitCode = 1;
      },
    );
  });
}
