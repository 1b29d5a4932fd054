// Runs the development control plane until Ctrl-C: `node test/envtest/serve.ts [--audit-log]`.
// stdout gets exactly one line, the admin kubeconfig path (for scripts and `make demo`);
// progress goes to stderr.
import { startControlPlane } from './control-plane.ts';

const auditLog = process.argv.includes('--audit-log');
const startedAt = performance.now();
process.stderr.write('control-plane: starting etcd and kube-apiserver from KUBEBUILDER_ASSETS\n');
const plane = await startControlPlane({ auditLog });
const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
process.stderr.write(`control-plane: ready at ${plane.server} in ${seconds} s; Ctrl-C stops it\n`);
if (plane.auditLogPath) process.stderr.write(`control-plane: audit log ${plane.auditLogPath}\n`);
process.stdout.write(`${plane.kubeconfigPath}\n`);

async function shutDown(signal: NodeJS.Signals): Promise<void> {
  process.stderr.write(`control-plane: ${signal}, stopping\n`);
  await plane.stop();
  process.stderr.write('control-plane: stopped\n');
  process.exit(0);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, (s) => void shutDown(s));
}
