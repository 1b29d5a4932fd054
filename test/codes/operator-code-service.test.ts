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
import { randomRecoveryCodes, randomSeed } from '../stores/random-material.ts';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import { waitFor } from '../support/wait.ts';
import { DEFAULT_CODE_SERVICE_AUDIENCE } from '../../operator/codes/audience.ts';

const USER = 'mfa-operator-under-test';
const NS = 'team-c';
const SEED = randomSeed();
const RECOVERY_CODES = randomRecoveryCodes(4).reveal();
let cp: ControlPlane;
let operator: OperatorProcess;
let dir: string;
let ca: string;

function callCodeService(
  port: number,
  token: string,
  route: 'code' | 'recovery-code',
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `https://127.0.0.1:${port}/v1/namespaces/${NS}/managedaccountmfas/shared/${route}`,
      { ca, method: route === 'code' ? 'GET' : 'POST', headers: { authorization: `Bearer ${token}` } },
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

/** A ServiceAccount of NS bound to one of config/rbac's roles, and its token for the code service. */
async function callerToken(name: string, clusterRole: string): Promise<string> {
  await kubectlOk(cp.kubeconfigPath, ['create', 'serviceaccount', name, '-n', NS]);
  await kubectlOk(cp.kubeconfigPath, [
    'create',
    'rolebinding',
    name,
    '-n',
    NS,
    `--clusterrole=${clusterRole}`,
    `--serviceaccount=${NS}:${name}`,
  ]);
  const token = await kubectlOk(cp.kubeconfigPath, [
    'create',
    'token',
    name,
    '-n',
    NS,
    `--audience=${DEFAULT_CODE_SERVICE_AUDIENCE}`,
  ]);
  return token.trim();
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
  await store.writeRecoveryCodes({ namespace: NS, name: 'shared', uid }, new SecretValue(RECOVERY_CODES));
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
    const token = await callerToken('ci', 'mfa-operator-code-reader');

    const answer = await callCodeService(port, token, 'code');
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

  it('hands a break-glass caller one recovery code, and the remaining-codes gauge follows within seconds', async () => {
    const { port } = (await operator.waitForLog('serving TOTP codes over HTTPS', 60_000)) as { port: number };
    const codeReader = await callerToken('reader', 'mfa-operator-code-reader');
    const breakGlass = await callerToken('oncall', 'mfa-operator-recovery-code-user');

    const refused = await callCodeService(port, codeReader, 'recovery-code');
    const answer = await callCodeService(port, breakGlass, 'recovery-code');

    expect(refused.status).toBe(403);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ code: RECOVERY_CODES[0], index: 0, remaining: 3 });
    // The resync is 10 minutes: only the recount after the claim's status write can show this in time.
    const gauge =
      /^mfa_operator_recovery_codes_remaining\{resource_namespace="team-c",resource_name="shared"\} (\d+)$/m;
    const remaining = await waitFor(
      'the gauge to show the hand-out',
      async () => {
        const metrics = await (await fetch(`http://127.0.0.1:${await operator.httpPort()}/metrics`)).text();
        return gauge.exec(metrics)?.[1] === '3' ? '3' : undefined;
      },
      30_000,
      250,
    );
    expect(remaining).toBe('3');
    const output = operator.lines.join('\n');
    expect(RECOVERY_CODES.filter((code) => output.includes(code))).toEqual([]);
  });
});
