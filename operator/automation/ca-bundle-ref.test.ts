import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InMemoryKube } from '../../test/automation/in-memory-kube.ts';
import { InMemoryStore } from '../../test/automation/in-memory-store.ts';
import { createTestCa, type TestCa } from '../../test/support/test-ca.ts';
import type { ManagedAccountMfa } from '../api/v1alpha1/types.generated.ts';
import { createLogger } from '../../core/logging/logger.ts';
import { createMetrics } from '../metrics/metrics.ts';
import { JobAutomationDriver } from './job-driver.ts';
import { RESULT_KEYS } from '../run-contract/result-secret.ts';
import { DEFAULT_RUNNER_SETTINGS } from './runner-settings.ts';

const NS = 'team-a';
const settings = { ...DEFAULT_RUNNER_SETTINGS, image: 'runner:test', retryBaseSeconds: 1, retryMaxSeconds: 1 };

let tls: TestCa;
let kube: InMemoryKube;
let driver: JobAutomationDriver;
const now = Date.parse('2026-12-02T12:00:00Z');

beforeAll(async () => {
  tls = await createTestCa();
});
afterAll(async () => {
  await tls?.remove();
});
beforeEach(() => {
  kube = new InMemoryKube();
  const store = new InMemoryStore();
  driver = new JobAutomationDriver({
    core: kube.core,
    batch: kube.batch,
    rbac: kube.rbac,
    jobs: () => kube.jobs(),
    credentialsVersion: () => '1',
    stores: { forAccount: async () => ({ provider: store, storeKind: 'Default', description: 'memory' }) },
    // The test CA is valid from when it was made: the driver's clock must be within its validity.
    settings,
    metrics: createMetrics(),
    log: createLogger('test', { level: 'silent' }),
    now: () => new Date(Math.max(now, Date.now())),
  });
});

function account(caBundleRef?: { configMapName: string; key?: string }): ManagedAccountMfa {
  return {
    apiVersion: 'mfa-operator.io/v1alpha1',
    kind: 'ManagedAccountMfa',
    metadata: { name: 'acct', namespace: NS, uid: 'uid-acct', generation: 1, creationTimestamp: new Date(now) },
    spec: {
      connector: 'demo',
      account: { credentialsSecretRef: { name: 'acct-login' }, ...(caBundleRef ? { caBundleRef } : {}) },
    },
    status: {},
  } as ManagedAccountMfa;
}

const runSpecOf = (job: string) =>
  JSON.parse(Buffer.from(kube.secret(NS, job)!.data![RESULT_KEYS.runSpec]!, 'base64').toString('utf8'));
const fingerprints = (pem: string) =>
  pem
    .match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)!
    .map((c) => new X509Certificate(c).fingerprint256);

describe('spec.account.caBundleRef at launch', () => {
  it('puts the checked CA certificates in the run spec and records the ConfigMap version on the Job', async () => {
    kube.putConfigMap(NS, 'app-ca', { 'ca.crt': `# our root\n${tls.ca.cert}` });

    await driver.step(account({ configMapName: 'app-ca' }));

    const [job] = kube.jobs();
    expect(fingerprints(runSpecOf(job!.metadata!.name!).caBundle)).toEqual(fingerprints(tls.ca.cert));
    expect(job!.metadata!.annotations!['mfa-operator.io/ca-bundle-resource-version']).toMatch(/^\d+$/);
  });

  it('without the field, the run spec has no CA bundle', async () => {
    await driver.step(account());

    expect(runSpecOf(kube.jobs()[0]!.metadata!.name!)).not.toHaveProperty('caBundle');
  });

  const refusals: [string, () => void, { configMapName: string; key?: string }, string, RegExp][] = [
    [
      'a missing ConfigMap',
      () => {},
      { configMapName: 'absent' },
      'CABundleNotFound',
      /ConfigMap absent \(spec\.account\.caBundleRef\) does not exist in namespace team-a/,
    ],
    [
      'a missing key',
      () => kube.putConfigMap(NS, 'app-ca', { 'ca.crt': tls.ca.cert }),
      { configMapName: 'app-ca', key: 'root.pem' },
      'CABundleNotFound',
      /has no key root\.pem/,
    ],
    [
      "the app's leaf certificate",
      () => kube.putConfigMap(NS, 'app-ca', { 'ca.crt': tls.serving.cert }),
      { configMapName: 'app-ca' },
      'CABundleInvalid',
      /is not a CA certificate/,
    ],
    [
      'garbage',
      () => kube.putConfigMap(NS, 'app-ca', { 'ca.crt': 'hello' }),
      { configMapName: 'app-ca' },
      'CABundleInvalid',
      /holds no PEM certificate/,
    ],
  ];
  for (const [what, arrange, ref, reason, message] of refusals) {
    it(`refuses ${what} before any run, with a condition saying what to fix`, async () => {
      arrange();

      const step = await driver.step(account(ref));

      expect(step.conditions).toEqual([
        { type: 'AutomationSucceeded', status: 'False', reason, message: expect.stringMatching(message) },
      ]);
      expect(step.conditions[0]!.message).toContain('No run was started.');
      expect(step.requeueAfterMs).toBeGreaterThan(0);
      expect(kube.jobs()).toEqual([]);
      expect(kube.kind('Secret').size).toBe(0);
    });
  }

  it('a run that failed on an untrusted certificate waits for the ConfigMap, and its edit re-arms it with the new CAs', async () => {
    kube.putConfigMap(NS, 'app-ca', { 'ca.crt': tls.otherCa.cert });
    const mfa = account({ configMapName: 'app-ca' });
    await driver.step(mfa);
    const first = kube.jobs()[0]!.metadata!.name!;
    kube.finishRun(NS, first, { outcome: 'Failed', reason: 'TLSUntrusted', message: 'untrusted', retryable: false });
    const harvest = await driver.step(mfa);
    mfa.status = { ...mfa.status, ...harvest.status };
    await harvest.afterStatusWritten?.();

    const waiting = await driver.step(mfa);
    expect(waiting.conditions[0]).toMatchObject({
      reason: 'TLSUntrusted',
      message: expect.stringContaining('until the spec, the credentials Secret or the CA bundle ConfigMap changes'),
    });
    expect(kube.jobs()).toHaveLength(1);

    kube.putConfigMap(NS, 'app-ca', { 'ca.crt': tls.ca.cert });
    await driver.step(mfa);

    const retry = kube
      .jobs()
      .map((j) => j.metadata!.name!)
      .find((name) => name !== first)!;
    expect(retry).toBeDefined();
    expect(fingerprints(runSpecOf(retry).caBundle)).toEqual(fingerprints(tls.ca.cert));
  });
});
