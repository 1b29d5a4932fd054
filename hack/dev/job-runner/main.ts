/**
 * The local job runner as a command: plays kubelet and the job controller for the operator's Jobs on a
 * control plane with only kube-apiserver and etcd. See "Local job runner" in docs/development.md.
 *
 *   node hack/dev/job-runner/main.ts --kubeconfig K [--namespace NS] [--image-root DIR] [--max-parallel N]
 *        [--selector app.kubernetes.io/managed-by=mfa-operator] [--log-dir DIR]
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../../../operator/logging/logger.ts';
import { describeError, JobRunnerError } from './errors.ts';
import { DEFAULT_SELECTOR, startLocalJobRunner } from './job-runner.ts';

/** Pod logs outlive the runner when it is run by hand: there is no `kubectl logs` without a kubelet. */
const DEFAULT_LOG_DIR = join(process.env.MFA_OPERATOR_CACHE || join(homedir(), '.cache', 'mfa-operator'), 'job-runner', 'logs');

const USAGE = `usage: node hack/dev/job-runner/main.ts --kubeconfig FILE [--namespace NS] [--image-root DIR]
       [--max-parallel N] [--selector ${DEFAULT_SELECTOR}] [--log-dir DIR]
Plays kubelet and the job controller for matching Jobs on an apiserver-only control plane.
Pod logs go to --log-dir (default ${DEFAULT_LOG_DIR}); see "Local job runner" in docs/development.md.`;

function maxParallel(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new JobRunnerError('InvalidOptions', `--max-parallel must be a whole number ≥ 1, got ${value}`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      kubeconfig: { type: 'string' }, namespace: { type: 'string' }, 'image-root': { type: 'string' },
      'max-parallel': { type: 'string' }, selector: { type: 'string' }, 'log-dir': { type: 'string' }, help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const kubeconfig = values.kubeconfig ?? process.env.KUBECONFIG;
  if (!kubeconfig) throw new JobRunnerError('InvalidOptions', `--kubeconfig is required (or set KUBECONFIG)\n${USAGE}`);
  const log = createLogger('local-job-runner');
  const runner = await startLocalJobRunner({
    kubeconfig, namespace: values.namespace, imageRoot: values['image-root'], maxParallel: maxParallel(values['max-parallel']),
    selector: values.selector, logDir: values['log-dir'] ?? DEFAULT_LOG_DIR, log,
  });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log.info('stopping: killing running pods');
  await runner.stop();
  return 0;
}

main().then((code) => process.exit(code), (err: unknown) => {
  const reason = err instanceof JobRunnerError ? `${err.reason}: ` : '';
  process.stderr.write(`local job runner: ${reason}${describeError(err)}\n`);
  process.exit(1);
});
