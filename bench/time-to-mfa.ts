/**
 * Seconds from `kubectl apply` to Ready for batches of ManagedAccountMfa resources against the demo app,
 * through the whole product (operator under its RBAC, run Jobs as pods on the one-node cluster, Chromium), and the same
 * enablement run by the bare runner (the floor), so the operator's overhead is a ratio. Two floors: the runner as a
 * process on this host (what the whole cluster path adds) and the same run pod as a Job created by hand
 * (bench/run-pod-floor.ts: what the operator itself adds on top of the cluster).
 *
 *   node bench/time-to-mfa.ts [--batches 1,10,50] [--floor-runs 3]
 *
 * Prints one JSON object. Run by hand; figures go to docs/benchmarks.md.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { REPO } from '../test/support/cluster.ts';
import { runCommand } from '../test/support/command.ts';
import { startE2eEnvironment } from '../test/support/e2e-environment.ts';
import { kubectlOk } from '../test/support/kubectl.ts';
import { credentialsSecret, managedAccountMfa } from '../test/support/resources.ts';
import { runPodFloor } from './run-pod-floor.ts';

const { values } = parseArgs({
  options: { batches: { type: 'string', default: '1,10,50' }, 'floor-runs': { type: 'string', default: '3' } },
});
const BATCHES = values.batches.split(',').map(Number);
const SETTINGS = { maxConcurrentRuns: 4, maxConcurrentRunsPerConnector: 4 };

function stats(seconds: number[]): { n: number; medianS: number; p95S: number } {
  const sorted = [...seconds].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
  return { n: sorted.length, medianS: Number(at(0.5).toFixed(2)), p95S: Number(at(0.95).toFixed(2)) };
}

/** The bare runner on this host, as a run Job would start it, with a file sink: no API server, no Job, no pod, no operator. */
async function floor(
  app: { url: string; caPem: string },
  upsert: (email: string, password: string) => Promise<void>,
  runs: number,
): Promise<number[]> {
  const dir = await mkdtemp(join(tmpdir(), 'mfa-floor-'));
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const email = `floor${i}@demo.example`;
    await upsert(email, 'floor-password');
    await writeFile(join(dir, `u${i}`), email);
    await writeFile(join(dir, `p${i}`), 'floor-password');
    const spec = {
      connector: 'demo',
      loginUrl: `${app.url}/login`,
      caBundle: app.caPem,
      credentials: { usernameFile: join(dir, `u${i}`), passwordFile: join(dir, `p${i}`) },
      sink: { type: 'file', dir: join(dir, `r${i}`) },
      action: 'enable',
    };
    await writeFile(join(dir, `spec${i}.json`), JSON.stringify(spec));
    const started = performance.now();
    const run = await runCommand(
      process.execPath,
      [
        `${REPO}/dist/operator/runner/main.js`,
        '--run-spec',
        join(dir, `spec${i}.json`),
        '--termination-message-path',
        join(dir, `t${i}`),
      ],
      {
        env: { ...process.env, MFA_DEMO_ALLOWED_LOGIN_HOSTS: new URL(app.url).hostname },
      },
    );
    if (run.code !== 0) throw new Error(`the bare runner failed: ${run.stdout}`);
    samples.push((performance.now() - started) / 1000);
  }
  return samples;
}

async function batch(
  env: Awaited<ReturnType<typeof startE2eEnvironment>>,
  size: number,
  tag: string,
): Promise<number[]> {
  const custom = env.cp.kubeConfig().makeApiClient(CustomObjectsApi);
  const names = Array.from({ length: size }, (_, i) => `${tag}-${i}`);
  const appliedAt = new Map<string, number>();
  for (const name of names) {
    await env.app.accounts.upsert({ email: `${name}@demo.example`, password: `pw-${name}` });
    await kubectlOk(
      env.cp.kubeconfigPath,
      ['apply', '-f', '-'],
      credentialsSecret(`${name}-login`, 'default', { username: `${name}@demo.example`, password: `pw-${name}` }),
    );
  }
  for (const name of names) {
    await kubectlOk(
      env.cp.kubeconfigPath,
      ['apply', '-f', '-'],
      managedAccountMfa(name, 'default', {
        account: {
          loginUrl: `${env.app.url}/login`,
          credentialsSecretRef: { name: `${name}-login` },
          ...env.accountTls,
        },
      }),
    );
    appliedAt.set(name, Date.now());
  }
  const readyAt = new Map<string, number>();
  while (readyAt.size < size) {
    const list = (await custom.listNamespacedCustomObject({
      group: 'mfa-operator.io',
      version: 'v1alpha1',
      namespace: 'default',
      plural: 'managedaccountmfas',
    })) as { items: any[] };
    for (const m of list.items) {
      const ready = m.status?.conditions?.find((c: any) => c.type === 'Ready' && c.status === 'True');
      if (ready && appliedAt.has(m.metadata.name) && !readyAt.has(m.metadata.name))
        readyAt.set(m.metadata.name, Date.now());
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return names.map((n) => (readyAt.get(n)! - appliedAt.get(n)!) / 1000);
}

const env = await startE2eEnvironment(SETTINGS);
try {
  const floorSeconds = await floor(
    env.app,
    (email, password) => env.app.accounts.upsert({ email, password }),
    Number(values['floor-runs']),
  );
  const podFloorStats = stats(await runPodFloor(env, SETTINGS, Number(values['floor-runs'])));
  const results: Record<string, unknown> = {};
  for (const size of BATCHES) results[`batch${size}`] = stats(await batch(env, size, `b${size}`));
  const floorStats = stats(floorSeconds);
  const one = results.batch1 as { medianS: number } | undefined;
  console.log(
    JSON.stringify(
      {
        runnerSettings: SETTINGS,
        bareRunnerFloor: floorStats,
        bareRunPodFloor: podFloorStats,
        applyToReady: results,
        ...(one
          ? {
              overheadRatioSingle: Number((one.medianS / floorStats.medianS).toFixed(2)),
              operatorOverheadRatioSingle: Number((one.medianS / podFloorStats.medianS).toFixed(2)),
            }
          : {}),
      },
      null,
      2,
    ),
  );
} finally {
  await env.stop();
}
