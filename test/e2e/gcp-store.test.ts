import { credentials } from '@grpc/grpc-js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GcpSecretStore } from '../../operator/stores/gcp/gcp-secret-store.ts';
import { SecretManagerTestServer } from '../gcp-secret-manager/server.ts';
import { codeServiceCertificates, getCode } from '../support/code-service-client.ts';
import { signInWithCodes, signInWithTotp } from '../support/demo-login.ts';
import { applyAccount, condition, getMfa } from '../support/e2e-accounts.ts';
import { capturedOutput, startE2eEnvironment, type E2eEnvironment } from '../support/e2e-environment.ts';
import { kubectlOk } from '../support/kubectl.ts';
import { DEFAULT_CODE_SERVICE_AUDIENCE } from '../../operator/codes/audience.ts';

// The store read-back below runs in this process: no GCE metadata-server probing, loopback only.
process.env.METADATA_SERVER_DETECTION = 'none';

const NS = 'default';
const PROJECT = 'demo-project-1';
let env: E2eEnvironment;
let server: SecretManagerTestServer;
let store: GcpSecretStore;
let dir: string;
let ca: string;
const secretsUsed: string[] = [];

beforeAll(async () => {
  server = await SecretManagerTestServer.start();
  dir = await mkdtemp(join(tmpdir(), 'mfa-e2e-gcp-'));
  const tls = await codeServiceCertificates(dir);
  ca = tls.ca;
  env = await startE2eEnvironment(
    {},
    {
      operatorArgs: [
        '--gcp-secret-manager-test-endpoint',
        server.address,
        '--code-service-port',
        '0',
        '--code-service-cert',
        tls.certPath,
        '--code-service-key',
        tls.keyPath,
      ],
      extraClusterRoles: [{ file: 'code_service_role.yaml', clusterRole: 'mfa-operator-code-service-role' }],
    },
  );
  store = GcpSecretStore.create(
    { projectID: PROJECT },
    {},
    {
      connection: { apiEndpoint: '127.0.0.1', port: server.port, sslCreds: credentials.createInsecure() },
    },
  );
}, 600_000);
afterAll(async () => {
  await store?.close();
  await env?.stop();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Every value of every Kubernetes Secret in the cluster, decoded. */
async function allSecretValues(): Promise<string> {
  const list = JSON.parse(await kubectlOk(env.cp.kubeconfigPath, ['get', 'secrets', '-A', '-o', 'json']));
  return (list.items as any[])
    .flatMap((s) => Object.values<string>(s.data ?? {}).map((v) => Buffer.from(v, 'base64').toString('utf8')))
    .join('\n');
}

describe(
  'a ManagedAccountMfa whose seed lives in GCP Secret Manager (local test server), used through the code service',
  { timeout: 300_000 },
  () => {
    it('turns MFA on with the seed only in Secret Manager, and a person signs in with a code from the code service', async () => {
      await kubectlOk(
        env.cp.kubeconfigPath,
        ['apply', '-f', '-'],
        `apiVersion: mfa-operator.io/v1alpha1\nkind: MfaSecretStore\nmetadata: {name: gcp, namespace: ${NS}}\nspec: {provider: {gcpSecretManager: {projectID: ${PROJECT}}}}\n`,
      );
      const { email, password } = await applyAccount(env, NS, 'cloud', { spec: { secretStoreRef: { name: 'gcp' } } });
      secretsUsed.push(password);

      await kubectlOk(env.cp.kubeconfigPath, [
        'wait',
        '--for=condition=Ready',
        'mfa/cloud',
        '-n',
        NS,
        '--timeout=240s',
      ]);

      const mfa = await getMfa(env, NS, 'cloud');
      expect(mfa.status.totp.store).toMatchObject({
        storeKind: 'MfaSecretStore',
        storeName: 'gcp',
        provider: 'gcpSecretManager',
      });
      expect(condition(mfa, 'SeedStored').status).toBe('True');
      expect((await env.app.accounts.status(email)).mfa.enabled).toBe(true);
      const ref = { namespace: NS, name: 'cloud', uid: mfa.metadata.uid };
      const stored = await store.readActiveSeed(ref);
      expect(stored).toBeDefined();
      const seed = stored!.seed.secret.reveal();
      secretsUsed.push(seed, ...((await store.readRecoveryCodes(ref))?.codes.reveal() ?? []));
      expect(secretsUsed.length).toBeGreaterThan(10);
      expect(await allSecretValues()).not.toContain(seed);
      expect(await kubectlOk(env.cp.kubeconfigPath, ['get', 'secrets', '-n', NS, '-o', 'name'])).not.toMatch(
        /cloud-mfa-seed/,
      );

      const { port } = (await env.operator.waitForLog('serving TOTP codes over HTTPS', 60_000)) as { port: number };
      await kubectlOk(env.cp.kubeconfigPath, ['create', 'serviceaccount', 'oncall', '-n', NS]);
      await kubectlOk(env.cp.kubeconfigPath, [
        'create',
        'rolebinding',
        'oncall-codes',
        '-n',
        NS,
        '--clusterrole=mfa-operator-code-reader',
        `--serviceaccount=${NS}:oncall`,
      ]);
      const token = (
        await kubectlOk(env.cp.kubeconfigPath, [
          'create',
          'token',
          'oncall',
          '-n',
          NS,
          `--audience=${DEFAULT_CODE_SERVICE_AUDIENCE}`,
        ])
      ).trim();
      const page = await signInWithCodes(env.app.url, email, password, async (attempt) => {
        const answer = await getCode(port, ca, token, NS, 'cloud', attempt === 0 ? '' : '?fresh=true');
        expect(answer.status).toBe(200);
        return String((JSON.parse(answer.body) as { code: unknown }).code);
      });
      expect(page.path).toBe('/');
      // The stored seed is the one the app holds: a code made from it signs in too.
      expect((await signInWithTotp(env.app.url, email, password, stored!.seed)).path).toBe('/');
      expect(env.operator.records()).toContainEqual(
        expect.objectContaining({
          audit: 'totp-code',
          user: `system:serviceaccount:${NS}:oncall`,
          name: 'cloud',
          result: 'issued',
        }),
      );
    });

    // Six-digit codes are not scanned: any timestamp or resourceVersion could contain one by chance.
    it('keeps the password, seed and recovery codes out of logs, Events, status, Jobs and Pods', async () => {
      const captured = await capturedOutput(env);
      expect(secretsUsed.length).toBeGreaterThan(10);
      expect(secretsUsed.filter((s) => captured.includes(s))).toEqual([]);
    });
  },
);
