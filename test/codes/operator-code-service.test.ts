import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesSecretStore } from '../../operator/stores/kubernetes/kubernetes-secret-store.ts';
import { CertificateDirectory } from '../envtest/certificates.ts';
import type { ControlPlane } from '../envtest/control-plane.ts';
import { REPO, startClusterWithCrds } from '../support/cluster.ts';
import { kubectlOk } from '../support/kubectl.ts';
import { startOperator, type OperatorProcess } from '../support/operator-process.ts';
import { managedAccountMfa } from '../support/resources.ts';
import { randomSeed } from './code-service-fixture.ts';
import { DEFAULT_CODE_SERVICE_AUDIENCE } from '../../operator/codes/audience.ts';

const USER = 'mfa-operator-under-test';
const NS = 'team-c';
const SEED = randomSeed();
let cp: ControlPlane;
let operator: OperatorProcess;
let dir: string;
let ca: string;

function getCode(port: number, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `https://127.0.0.1:${port}/v1/namespaces/${NS}/managedaccountmfas/shared/code`,
      { ca, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  cp = await startClusterWithCrds();
  dir = await mkdtemp(join(tmpdir(), 'mfa-operator-codes-'));
  const certificates = await CertificateDirectory.create(dir);
  const authority = await certificates.createCertificateAuthority('code-service-ca');
  const serving = await certificates.issueServingCertificate('code-service', authority);
  ca = await readFile(authority.certPath, 'utf8');
  const admin = cp.kubeconfigPath;
  for (const file of ['role.yaml', 'code_service_role.yaml'])
    await kubectlOk(admin, ['apply', '-f', `${REPO}/config/rbac/${file}`]);
  await kubectlOk(admin, [
    'create',
    'clusterrolebinding',
    'under-test',
    '--clusterrole=mfa-operator-manager-role',
    `--user=${USER}`,
  ]);
  await kubectlOk(admin, [
    'create',
    'clusterrolebinding',
    'under-test-codes',
    '--clusterrole=mfa-operator-code-service-role',
    `--user=${USER}`,
  ]);
  await kubectlOk(admin, ['create', 'namespace', NS]);
  await kubectlOk(admin, ['apply', '-f', '-'], managedAccountMfa('shared', NS));
  const uid = await kubectlOk(admin, ['get', 'mfa', 'shared', '-n', NS, '-o', 'jsonpath={.metadata.uid}']);
  const store = new KubernetesSecretStore(cp.kubeConfig());
  const written = await store.writePendingSeed({ namespace: NS, name: 'shared', uid }, SEED);
  await store.promotePendingSeed({ namespace: NS, name: 'shared', uid }, written.version);
  operator = startOperator(await cp.createUser(USER), [
    '--no-leader-elect',
    '--code-service-port',
    '0',
    '--code-service-cert',
    serving.certPath,
    '--code-service-key',
    serving.keyPath,
  ]);
}, 180_000);
afterAll(async () => {
  await operator?.kill();
  await cp?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the operator with --code-service-port', () => {
  it('serves codes from the default Kubernetes store under config/rbac, counted in /metrics and audited on stdout', async () => {
    const { port } = (await operator.waitForLog('serving TOTP codes over HTTPS', 60_000)) as { port: number };
    await kubectlOk(cp.kubeconfigPath, ['create', 'serviceaccount', 'ci', '-n', NS]);
    await kubectlOk(cp.kubeconfigPath, [
      'create',
      'rolebinding',
      'ci-codes',
      '-n',
      NS,
      '--clusterrole=mfa-operator-code-reader',
      `--serviceaccount=${NS}:ci`,
    ]);
    const token = (
      await kubectlOk(cp.kubeconfigPath, [
        'create',
        'token',
        'ci',
        '-n',
        NS,
        `--audience=${DEFAULT_CODE_SERVICE_AUDIENCE}`,
      ])
    ).trim();

    const answer = await getCode(port, token);
    const metrics = await (await fetch(`http://127.0.0.1:${await operator.httpPort()}/metrics`)).text();

    expect(answer.status).toBe(200);
    const code = String((JSON.parse(answer.body) as { code: unknown }).code);
    const totp = new TOTP({
      secret: Secret.fromBase32(SEED.secret.reveal()),
      algorithm: SEED.algorithm,
      digits: SEED.digits,
      period: SEED.period,
    });
    expect(totp.validate({ token: code, window: 1 })).not.toBeNull();
    expect(metrics).toMatch(/^mfa_operator_codes_issued_total\{purpose="display",result="issued"\} 1$/m);
    expect(operator.records()).toContainEqual(
      expect.objectContaining({
        audit: 'totp-code',
        user: `system:serviceaccount:${NS}:ci`,
        namespace: NS,
        name: 'shared',
        result: 'issued',
      }),
    );
    expect(operator.lines.join('\n')).not.toContain(SEED.secret.reveal());
  });
});
