import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { ControlPlane } from '../envtest/control-plane.ts';
import { startClusterWithCrds } from '../support/cluster.ts';
import { kubectlOk } from '../support/kubectl.ts';
import { startOperator, type OperatorProcess } from '../support/operator-process.ts';
import { credentialsSecret, managedAccountMfa } from '../support/resources.ts';
import { createTestCa, type TestCa } from '../support/test-ca.ts';
import { waitFor } from '../support/wait.ts';

// The operator launches Jobs that nothing runs (no kubelet): enough to see what each run would be given.
// A short resync stands in for time passing, so an edited ConfigMap is picked up within the test.
const NS = 'tenant-ca';
let cp: ControlPlane;
let operator: OperatorProcess;
let tls: TestCa;

beforeAll(async () => {
  [cp, tls] = await Promise.all([startClusterWithCrds(), createTestCa()]);
  await kubectlOk(cp.kubeconfigPath, ['create', 'namespace', NS]);
  // Room for every test's run at once: the Jobs never finish here.
  const runnerConfig = join(tls.dir, 'runner.yaml');
  await writeFile(runnerConfig, 'maxConcurrentRuns: 10\nmaxConcurrentRunsPerConnector: 10\n');
  operator = startOperator(cp.kubeconfigPath, [
    '--no-leader-elect',
    '--runner-image',
    'mfa-operator:ca-test',
    '--runner-config',
    runnerConfig,
    '--resync-period',
    '2',
  ]);
  await operator.waitForLog('caches synced; reconciling');
}, 120_000);
afterAll(async () => {
  await operator?.kill();
  await cp?.stop();
  await tls?.remove();
});

const kubectl = (args: string[], stdin?: string) => kubectlOk(cp.kubeconfigPath, args, stdin);
const get = async (kind: string, name: string) =>
  JSON.parse(await kubectl(['get', kind, name, '-n', NS, '-o', 'json']));
const condition = (mfa: any, type: string) => mfa.status?.conditions?.find((c: any) => c.type === type);
const jobsOf = async (name: string) =>
  (JSON.parse(await kubectl(['get', 'jobs', '-n', NS, '-o', 'json'])).items as any[]).filter((j) =>
    j.metadata.ownerReferences?.some((o: any) => o.kind === 'ManagedAccountMfa' && o.name === name),
  );
const configMap = (name: string, data: Record<string, string>) =>
  kubectl(
    ['apply', '-f', '-'],
    stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS }, data }),
  );
const fingerprints = (pem: string) =>
  pem
    .match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)!
    .map((c) => new X509Certificate(c).fingerprint256);

async function account(name: string, caBundleRef: Record<string, string>): Promise<void> {
  await kubectl(
    ['apply', '-f', '-'],
    credentialsSecret(`${name}-login`, NS, { username: 'u@example.com', password: 'pw-ca-test' }),
  );
  await kubectl(
    ['apply', '-f', '-'],
    managedAccountMfa(name, NS, {
      account: {
        loginUrl: 'https://127.0.0.1:8443/login',
        credentialsSecretRef: { name: `${name}-login` },
        caBundleRef,
      },
    }),
  );
}

async function refusal(name: string, reason: string): Promise<any> {
  return waitFor(`AutomationSucceeded ${reason} on ${name}`, async () => {
    const mfa = await get('mfa', name);
    return condition(mfa, 'AutomationSucceeded')?.reason === reason ? mfa : undefined;
  });
}

const runSpecOf = async (job: any) =>
  JSON.parse(Buffer.from((await get('secret', job.metadata.name)).data['run-spec.json'], 'base64').toString('utf8'));

describe('spec.account.caBundleRef on a real API server', () => {
  it('hands the run the CA certificates of the ConfigMap, and records its version on the Job', async () => {
    await configMap('internal-ca', { 'ca.crt': tls.ca.cert });
    await account('trusting', { configMapName: 'internal-ca' });

    const [job] = await waitFor('a run Job', async () =>
      (await jobsOf('trusting')).length ? jobsOf('trusting') : undefined,
    );

    expect(fingerprints((await runSpecOf(job)).caBundle)).toEqual(fingerprints(tls.ca.cert));
    const cm = await get('configmap', 'internal-ca');
    expect(job.metadata.annotations['mfa-operator.io/ca-bundle-resource-version']).toBe(cm.metadata.resourceVersion);
    expect(JSON.stringify(job.spec)).not.toContain('BEGIN CERTIFICATE');
  });

  it("refuses the app's leaf certificate before any run; fixing the ConfigMap starts the run with the fixed bundle", async () => {
    await configMap('leaf-only', { 'ca.crt': tls.serving.cert });
    await account('leafy', { configMapName: 'leaf-only' });

    const refused = await refusal('leafy', 'CABundleInvalid');
    expect(condition(refused, 'AutomationSucceeded').message).toMatch(
      /Key ca\.crt of ConfigMap leaf-only \(spec\.account\.caBundleRef\) is not a usable CA bundle: certificate 1 .* is not a CA certificate.*No run was started\./,
    );
    expect(condition(refused, 'Ready')).toMatchObject({ status: 'False', reason: 'CABundleInvalid' });
    expect(await jobsOf('leafy')).toEqual([]);

    await configMap('leaf-only', { 'ca.crt': `${tls.ca.cert}` });
    const [job] = await waitFor('a run Job once the ConfigMap is fixed', async () =>
      (await jobsOf('leafy')).length ? jobsOf('leafy') : undefined,
    );
    expect(fingerprints((await runSpecOf(job)).caBundle)).toEqual(fingerprints(tls.ca.cert));
  });

  it('refuses garbage in the ConfigMap before any run', async () => {
    await configMap('garbage', { 'ca.crt': 'this is not PEM' });
    await account('garbled', { configMapName: 'garbage' });

    const refused = await refusal('garbled', 'CABundleInvalid');
    expect(condition(refused, 'AutomationSucceeded').message).toContain('holds no PEM certificate');
    expect(await jobsOf('garbled')).toEqual([]);
  });

  it('names a missing ConfigMap, and a missing key, in the condition', async () => {
    await account('orphan', { configMapName: 'no-such-ca' });
    await configMap('wrong-key', { 'root.pem': tls.ca.cert });
    await account('keyless', { configMapName: 'wrong-key' });

    const missing = await refusal('orphan', 'CABundleNotFound');
    const keyless = await refusal('keyless', 'CABundleNotFound');

    expect(condition(missing, 'AutomationSucceeded').message).toContain(
      `ConfigMap no-such-ca (spec.account.caBundleRef) does not exist in namespace ${NS}`,
    );
    expect(condition(keyless, 'AutomationSucceeded').message).toContain(
      'ConfigMap wrong-key (spec.account.caBundleRef) has no key ca.crt',
    );
    expect([...(await jobsOf('orphan')), ...(await jobsOf('keyless'))]).toEqual([]);
  });
});
