// Creates N ManagedAccountMfa resources on the local control plane and measures the operator reconciling them.
// Usage: node bench/reconcile.ts [--count 1000] [--idle-seconds 60] [--other-secrets 0] [--from dist|source]
//        [--node-options '...'] [--backlog]     (prints JSON)
// --backlog creates every resource before the operator starts, so the time until all are reconciled is the operator's
// own (otherwise the bench's creates, 25 at a time, pace it). Every run ends with the floor (bench/reconcile-floor.ts):
// the same three writes per resource from a bare client with the operator's 4 workers, after the operator stopped.
// --other-secrets N first creates N unrelated 8 KiB Secrets (a cluster's TLS keys, Helm releases) that the operator's
// Secret informer lists and watches too.
// --from dist (default) runs dist/operator/main.js as the image does (`npm run build` first); source runs the .ts files.
// --node-options is the operator's NODE_OPTIONS; default the chart's (values.yaml nodeOptions), '' for none.
import { CustomObjectsApi, CoreV1Api } from '@kubernetes/client-node';
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { CREDENTIALS_LABEL, CREDENTIALS_LABEL_VALUE } from '../operator/api/v1alpha1/resources.ts';
import { REPO, startClusterWithCrds } from '../test/support/cluster.ts';
import { kubectlOk } from '../test/support/kubectl.ts';
import { startOperator } from '../test/support/operator-process.ts';
import { reconcileFloorSeconds } from './reconcile-floor.ts';

const CHART_NODE_OPTIONS = (
  parse(readFileSync(`${REPO}/charts/mfa-operator/values.yaml`, 'utf8')) as { nodeOptions: string }
).nodeOptions;
const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    'idle-seconds': { type: 'string', default: '60' },
    'other-secrets': { type: 'string', default: '0' },
    from: { type: 'string', default: 'dist' },
    'node-options': { type: 'string', default: CHART_NODE_OPTIONS },
    backlog: { type: 'boolean', default: false },
  },
});
const BACKLOG = values.backlog;
const WORKERS = 4;
const FROM = values.from === 'source' ? 'source' : 'dist';
const DIST_MAIN = `${REPO}/dist/operator/main.js`;
if (FROM === 'dist' && !existsSync(DIST_MAIN))
  throw new Error(`${DIST_MAIN} is missing: run npm run build first (or pass --from source)`);
const NODE_OPTIONS = values['node-options'];
const COUNT = Number(values.count);
const IDLE_SECONDS = Number(values['idle-seconds']);
const OTHER_SECRETS = Number(values['other-secrets']);
const USER = 'mfa-operator-bench';
const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete']);

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function memoryMiB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const kb = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return Math.round(kb / 1024);
}

async function createOtherSecrets(core: CoreV1Api): Promise<void> {
  const filler = 'x'.repeat(8 * 1024);
  for (let i = 0; i < OTHER_SECRETS; i += 25) {
    await Promise.all(
      Array.from({ length: Math.min(25, OTHER_SECRETS - i) }, (_, j) =>
        core.createNamespacedSecret({
          namespace: 'default',
          body: {
            metadata: { name: `other-${i + j}`, annotations: { note: filler } },
            stringData: { 'tls.key': filler },
          },
        }),
      ),
    );
  }
}

/** The operator's V8 heap in use, from its /metrics (prom-client's default metrics). */
async function heapUsedMiB(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Math.round(Number(/^mfa_operator_nodejs_heap_size_used_bytes (\S+)/m.exec(text)?.[1] ?? 0) / 1048576);
}

function operatorRequests(auditLog: string, since = 0): { total: number; writes: number } {
  const events = readFileSync(auditLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter(
      (e) =>
        e.user?.username === USER && e.stage === 'ResponseComplete' && Date.parse(e.requestReceivedTimestamp) >= since,
    );
  return { total: events.length, writes: events.filter((e) => WRITE_VERBS.has(e.verb)).length };
}

const NAMES = Array.from({ length: COUNT }, (_, i) => `bench-${i}`);

async function createAll(custom: CustomObjectsApi): Promise<void> {
  for (let i = 0; i < NAMES.length; i += 25) {
    await Promise.all(
      NAMES.slice(i, i + 25).map((name) =>
        custom.createNamespacedCustomObject({
          group: 'mfa-operator.io',
          version: 'v1alpha1',
          namespace: 'default',
          plural: 'managedaccountmfas',
          body: {
            apiVersion: 'mfa-operator.io/v1alpha1',
            kind: 'ManagedAccountMfa',
            metadata: { name },
            spec: { connector: 'demo', account: { credentialsSecretRef: { name: 'bench-login' } } },
          },
        }),
      ),
    );
  }
}

async function countReconciled(custom: CustomObjectsApi): Promise<number> {
  const list = (await custom.listNamespacedCustomObject({
    group: 'mfa-operator.io',
    version: 'v1alpha1',
    namespace: 'default',
    plural: 'managedaccountmfas',
  })) as { items: any[] };
  return list.items.filter((m) =>
    m.status?.conditions?.some((c: any) => c.type === 'CredentialsValid' && c.status === 'True'),
  ).length;
}

async function timed(work: () => Promise<void>): Promise<number> {
  const started = Date.now();
  await work();
  return (Date.now() - started) / 1000;
}

const cp = await startClusterWithCrds({ auditLog: true });
try {
  await kubectlOk(cp.kubeconfigPath, [
    'create',
    'clusterrolebinding',
    'bench',
    '--clusterrole=cluster-admin',
    `--user=${USER}`,
  ]);
  const kc = cp.kubeConfig();
  const custom = kc.makeApiClient(CustomObjectsApi);
  await createOtherSecrets(kc.makeApiClient(CoreV1Api));
  await kc.makeApiClient(CoreV1Api).createNamespacedSecret({
    namespace: 'default',
    body: {
      metadata: { name: 'bench-login', labels: { [CREDENTIALS_LABEL]: CREDENTIALS_LABEL_VALUE } },
      stringData: { username: 'u', password: 'p' },
    },
  });
  const createdBeforeStart = BACKLOG ? await timed(() => createAll(custom)) : undefined;
  const operatorStarted = Date.now();
  const operator = startOperator(
    await cp.createUser(USER),
    ['--no-leader-elect', '--workers', String(WORKERS)],
    { NODE_OPTIONS },
    FROM === 'dist' ? { main: DIST_MAIN } : {},
  );
  await operator.waitForLog('caches synced; reconciling', 60_000);
  const port = await operator.httpPort();
  const rssAfterCacheSyncMiB = memoryMiB(operator.child.pid!, 'VmRSS');
  const heapAfterCacheSyncMiB = await heapUsedMiB(port);
  const started = Date.now();
  const apiServerPid = cp.processIds().kubeApiServer;
  const cpuAtStart = { operator: cpuSeconds(operator.child.pid!), apiServer: cpuSeconds(apiServerPid) };
  const createdSeconds = createdBeforeStart ?? (await timed(() => createAll(custom)));
  const createsDone = Date.now();
  while ((await countReconciled(custom)) < COUNT) await new Promise((r) => setTimeout(r, 500));
  const reconciledAt = Date.now();
  const reconciledSeconds = (reconciledAt - started) / 1000;
  // CPU time depends far less on the machine's load than wall time; the API server's includes the bench's own
  // creates and the list it polls every 500 ms.
  const busyCpu = {
    operatorCpuSeconds: Number((cpuSeconds(operator.child.pid!) - cpuAtStart.operator).toFixed(2)),
    apiServerCpuSeconds: Number((cpuSeconds(apiServerPid) - cpuAtStart.apiServer).toFixed(2)),
  };
  await new Promise((r) => setTimeout(r, 2_000));
  const busy = operatorRequests(cp.auditLogPath!);
  const pid = operator.child.pid!;
  const idleFrom = Date.now();
  const cpuBefore = cpuSeconds(pid);
  await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
  const idle = operatorRequests(cp.auditLogPath!, idleFrom);
  const idleRssMiB = memoryMiB(pid, 'VmRSS');
  const idleHeapMiB = await heapUsedMiB(port);
  const peakRssMiB = memoryMiB(pid, 'VmHWM');
  const idleCpuSeconds = Number((cpuSeconds(pid) - cpuBefore).toFixed(2));
  await operator.kill();
  const floorSeconds = await reconcileFloorSeconds(kc, 'default', NAMES, WORKERS);
  console.log(
    JSON.stringify(
      {
        resources: COUNT,
        otherSecrets: OTHER_SECRETS,
        from: FROM,
        nodeOptions: NODE_OPTIONS,
        // Caches synced: with no resources yet, or with --backlog all of them listed and none reconciled.
        operatorRssAfterCacheSyncMiB: rssAfterCacheSyncMiB,
        operatorHeapUsedAfterCacheSyncMiB: heapAfterCacheSyncMiB,
        backlog: BACKLOG,
        // With --backlog the creates came before the operator started; "reconciled" then counts from its caches' sync
        // (which listed all of them), and fromOperatorStart includes its start and that list.
        secondsToCreateAll: createdSeconds,
        secondsUntilAllReconciled: reconciledSeconds,
        secondsAfterLastCreate: Number(((reconciledAt - createsDone) / 1000).toFixed(2)),
        ...(BACKLOG ? { secondsFromOperatorStart: Number(((reconciledAt - operatorStarted) / 1000).toFixed(2)) } : {}),
        untilAllReconciled: busyCpu,
        operatorApiRequestsPerResource: Number((busy.total / COUNT).toFixed(2)),
        operatorApiWritesPerResource: Number((busy.writes / COUNT).toFixed(2)),
        operatorPeakRssMiB: peakRssMiB,
        idle: {
          seconds: IDLE_SECONDS,
          apiWrites: idle.writes,
          apiRequests: idle.total,
          cpuSeconds: idleCpuSeconds,
          rssMiB: idleRssMiB,
          heapUsedMiB: idleHeapMiB,
        },
        // Only a backlog run compares with the floor: otherwise the bench's own creates pace the operator.
        floor: {
          workers: WORKERS,
          secondsForAllResources: Number(floorSeconds.toFixed(2)),
          ...(BACKLOG ? { reconcileOverFloor: Number((reconciledSeconds / floorSeconds).toFixed(2)) } : {}),
        },
      },
      null,
      2,
    ),
  );
} finally {
  await cp.stop();
}
