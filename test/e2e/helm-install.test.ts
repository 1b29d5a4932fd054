import { KubeConfig } from '@kubernetes/client-node';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesSecretStore } from '../../operator/stores/kubernetes/kubernetes-secret-store.ts';
import { startCluster, type LocalCluster } from '../cluster/cluster.ts';
import { IMAGE } from '../image/image.ts';
import { ensurePackagingTools } from '../packaging/tools.ts';
import { signInWithCodes } from '../support/demo-login.ts';
import { DemoHttpClient } from '../apps/demo/client/http-client.ts';
import { signIn } from '../apps/demo/client/flows.ts';
import {
  DEMO_APP_IMAGE,
  deployDemoApp,
  publishDemoAppCa,
  type DemoAppInCluster,
} from '../support/demo-app-in-cluster.ts';
import {
  installOperatorWithHelm,
  localClusterValues,
  OPERATOR_DEPLOYMENT,
  type HelmOperator,
} from '../support/helm-operator.ts';
import { runCommand } from '../support/command.ts';
import { kubectl, kubectlOk } from '../support/kubectl.ts';
import { handOutRecoveryCode, kubectlMfaAs, liveCode, pluginPath } from '../support/kubectl-mfa.ts';
import { PodLogCollector } from '../support/pod-logs.ts';
import { credentialsSecret, managedAccountMfa } from '../support/resources.ts';
import { waitFor } from '../support/wait.ts';

// The product as a user installs it: `helm install` of charts/mfa-operator from the image the Dockerfile builds,
// two replicas with leader election and the code service behind its Service, on the one-node cluster; the demo app
// in a pod. Nothing runs on the host but the cluster itself: the run pods get their sign-in codes from the
// operator pods, and `kubectl mfa code` reaches the code service through its ClusterIP.
const NS = 'default';
const NAME = 'brand';
let dir: string;
let cluster: LocalCluster;
let podLogs: PodLogCollector;
let app: DemoAppInCluster;
let operator: HelmOperator;
let admin: string;
let plugin: string;
let store: KubernetesSecretStore;
let account: { email: string; password: string };
const secretsUsed: string[] = [];

beforeAll(async () => {
  await ensurePackagingTools();
  dir = await mkdtemp(join(tmpdir(), 'mfa-helm-e2e-'));
  cluster = await startCluster({ images: [IMAGE, DEMO_APP_IMAGE], startTimeoutMs: 10 * 60_000 });
  podLogs = new PodLogCollector(cluster.podLogsDir);
  admin = cluster.plane.kubeconfigPath;
  app = await deployDemoApp(admin, join(dir, 'demo-app-tls'));
  operator = await installOperatorWithHelm(
    admin,
    dir,
    localClusterValues({ codeService: { aggregatedApi: { enabled: true } } }),
  );
  plugin = await pluginPath(dir);
  const kc = new KubeConfig();
  kc.loadFromFile(admin);
  store = new KubernetesSecretStore(kc);
}, 1_200_000);

afterAll(async () => {
  await podLogs?.stop();
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function getMfa(): Promise<any> {
  return JSON.parse(await kubectlOk(admin, ['get', 'mfa', NAME, '-n', NS, '-o', 'json']));
}

async function pod(name: string): Promise<any> {
  return JSON.parse(await kubectlOk(admin, ['get', 'pod', name, '-n', operator.namespace, '-o', 'json']));
}

async function activeSeedSecret(): Promise<string> {
  const mfa = await getMfa();
  const stored = await store.readActiveSeed({ namespace: NS, name: NAME, uid: mfa.metadata.uid });
  if (!stored) throw new Error(`no active seed stored for ${NAME}`);
  secretsUsed.push(stored.seed.secret.reveal());
  return stored.seed.secret.reveal();
}

/** Signs in to the demo app as a person would, with codes `kubectl mfa code` gets from the in-cluster code service. */
async function signInWithKubectlMfa(): Promise<string> {
  const page = await signInWithCodes(app.url, account.email, account.password, () =>
    liveCode(admin, NAME, operator.codeService, { namespace: NS, path: plugin }),
  );
  return page.path;
}

describe(
  'the operator installed by its Helm chart: two replicas from the image, runs as pods, codes from its Service',
  { timeout: 420_000 },
  () => {
    it('runs two ready replicas of the image under the restricted profile; one holds the Lease, the other waits', async () => {
      const names = await operator.pods();
      expect(names).toHaveLength(2);
      for (const name of names) {
        const p = await pod(name);
        expect(p.spec.containers[0].image).toBe(IMAGE);
        expect(p.spec.containers[0].securityContext).toMatchObject({
          readOnlyRootFilesystem: true,
          runAsUser: 65532,
          allowPrivilegeEscalation: false,
        });
        expect(p.status.containerStatuses[0].ready).toBe(true);
      }
      const leader = await operator.leader();
      const standby = names.find((n) => n !== leader)!;
      expect(await kubectlOk(admin, ['logs', leader, '-n', operator.namespace])).toContain('"msg":"became leader"');
      const standbyLog = await kubectlOk(admin, ['logs', standby, '-n', operator.namespace]);
      expect(standbyLog).toContain('"msg":"waiting for leadership"');
      expect(standbyLog).not.toContain('"msg":"became leader"');
    });

    it('turns MFA on for an applied ManagedAccountMfa through a run pod, and a code from kubectl mfa signs in', async () => {
      account = { email: `${NAME}@demo.example`, password: `pw-${NAME}-${Math.random().toString(36).slice(2)}` };
      secretsUsed.push(account.password);
      await app.accounts.upsert(account);
      const caBundleRef = await publishDemoAppCa(admin, app, NS);
      await kubectlOk(
        admin,
        ['apply', '-f', '-'],
        credentialsSecret(`${NAME}-login`, NS, { username: account.email, password: account.password }),
      );
      await kubectlOk(
        admin,
        ['apply', '-f', '-'],
        managedAccountMfa(NAME, NS, {
          account: {
            displayName: NAME,
            loginUrl: `${app.url}/login`,
            credentialsSecretRef: { name: `${NAME}-login` },
            caBundleRef,
          },
        }),
      );
      await kubectlOk(admin, ['wait', '--for=condition=Ready', `mfa/${NAME}`, '-n', NS, '--timeout=300s']);
      const mfa = await getMfa();
      expect(mfa.status.mfaState).toBe('Enabled');
      expect((await app.accounts.status(account.email)).mfa.enabled).toBe(true);
      const jobs = JSON.parse(
        await kubectlOk(admin, ['get', 'jobs', '-n', NS, '-l', `mfa-operator.io/account=${NAME}`, '-o', 'json']),
      );
      expect(jobs.items[0].spec.template.spec.containers[0].image).toBe(IMAGE);
      const codes = await store.readRecoveryCodes({ namespace: NS, name: NAME, uid: mfa.metadata.uid });
      secretsUsed.push(...(codes?.codes.reveal() ?? []));
      await activeSeedSecret();
      expect(await signInWithKubectlMfa()).toBe('/');
    });

    it('survives the leader pod killed: another replica takes the Lease and rotates the seed with codes from the Service', async () => {
      const killed = await operator.leader();
      const before = await activeSeedSecret();
      await kubectlOk(admin, ['delete', 'pod', killed, '-n', operator.namespace, '--grace-period=0', '--force']);
      const leader = await waitFor(
        'another replica leading',
        async () => {
          const holder = await operator.leader().catch(() => undefined);
          return holder && holder !== killed ? holder : undefined;
        },
        120_000,
        500,
      );
      expect(leader).not.toBe(killed);
      await kubectlOk(admin, ['annotate', 'mfa', NAME, '-n', NS, 'mfa-operator.io/rotate=helm-failover']);
      await waitFor(
        'the rotation recorded and Ready',
        async () => {
          const mfa = await getMfa();
          return mfa.status?.totp?.rotatedFor === 'helm-failover' &&
            mfa.status.conditions?.find((c: any) => c.type === 'Ready')?.status === 'True'
            ? mfa
            : undefined;
        },
        300_000,
        1000,
      );
      expect(await activeSeedSecret()).not.toBe(before);
      expect(await signInWithKubectlMfa()).toBe('/');
      await kubectlOk(admin, [
        'rollout',
        'status',
        `deployment/${OPERATOR_DEPLOYMENT}`,
        '-n',
        operator.namespace,
        '--timeout=120s',
      ]);
      expect(await operator.pods()).toHaveLength(2);
    });

    it('gives a code through kube-apiserver (the APIService) with nothing but a kubeconfig, and it signs in', async () => {
      await kubectlOk(admin, [
        'wait',
        '--for=condition=Available',
        'apiservice/v1alpha1.codes.mfa-operator.io',
        '--timeout=120s',
      ]);
      const viaApiServer = async () => {
        const out = await runCommand('kubectl', ['mfa', 'code', NAME, '-n', NS, '--once'], {
          env: { ...process.env, KUBECONFIG: admin, PATH: plugin, KUBECTL_MFA_SERVER: '' },
        });
        if (out.code !== 0)
          throw new Error(`kubectl mfa code through the API server exited ${out.code}: ${out.stderr}`);
        return out.stdout.trim();
      };
      const page = await signInWithCodes(app.url, account.email, account.password, viaApiServer);
      expect(page.path).toBe('/');
    });

    it('hands a recovery code through the Service to a break-glass caller only: it signs in once, never twice', async () => {
      const mfa = await getMfa();
      const stored = await store.readRecoveryCodes({ namespace: NS, name: NAME, uid: mfa.metadata.uid });
      const codes = stored?.codes.reveal() ?? [];
      secretsUsed.push(...codes);
      expect(codes.length).toBeGreaterThan(1);
      const codeReader = kubectlMfaAs(
        admin,
        'mfa-operator-code-reader',
        ['recovery-code', NAME],
        operator.codeService,
        {
          namespace: NS,
          path: plugin,
        },
      );
      await expect(codeReader).rejects.toThrow(/you need create on managedaccountmfas\/recovery-code/);
      const first = await handOutRecoveryCode(admin, NAME, operator.codeService, { namespace: NS, path: plugin });
      const second = await handOutRecoveryCode(admin, NAME, operator.codeService, { namespace: NS, path: plugin });
      expect([first.index, second.index]).toEqual([0, 1]);
      expect([first.code, second.code]).toEqual(codes.slice(0, 2));
      expect(second.remaining).toBe(codes.length - 2);

      const signInWithRecoveryCode = async (code: string) => {
        const client = new DemoHttpClient(app.url);
        const prompt = await signIn(client, account.email, account.password);
        expect(prompt.path).toBe('/login/two-factor');
        return client.submit(await client.get('/login/recovery'), '/login/recovery', { recovery_code: code });
      };
      expect((await signInWithRecoveryCode(first.code)).path).toBe('/');
      expect((await signInWithRecoveryCode(first.code)).status).toBe(401);

      const after = await getMfa();
      expect(after.status.recoveryCodes).toMatchObject({ used: [0, 1], remaining: codes.length - 2 });
      const handOuts = after.status.history.filter((h: any) => h.trigger === 'RecoveryCodeHandedOut');
      // Newest first.
      expect(handOuts.map((h: any) => [h.recoveryCodeIndex, h.user])).toEqual([
        [1, expect.stringMatching(/^system:serviceaccount:default:mfa-caller-/)],
        [0, expect.stringMatching(/^system:serviceaccount:default:mfa-caller-/)],
      ]);
      const events = await kubectlOk(admin, [
        'get',
        'events',
        '-n',
        NS,
        '--field-selector',
        `involvedObject.name=${NAME}`,
      ]);
      expect(events).toContain('RecoveryCodeHandedOut');
    });

    it('keeps every secret it used out of pod logs, Events, status, Jobs and Pods', async () => {
      const captured = [
        [...(await podLogs.output()).values()].join('\n'),
        await kubectlOk(admin, ['get', 'mfa,events,jobs,pods', '-A', '-o', 'yaml']),
        await kubectlOk(admin, ['describe', 'mfa', '-A']),
      ].join('\n');
      expect(captured).toContain('became leader');
      expect(captured).toContain('JobCreated');
      expect(secretsUsed.length).toBeGreaterThan(10);
      expect(secretsUsed.filter((s) => captured.includes(s))).toEqual([]);
    });

    it('helm uninstall removes the operator and keeps the CRDs and every ManagedAccountMfa', async () => {
      await operator.uninstall();
      expect(
        (await kubectl(admin, ['get', 'deployment', OPERATOR_DEPLOYMENT, '-n', operator.namespace])).code,
      ).not.toBe(0);
      await kubectlOk(admin, ['get', 'crd', 'managedaccountmfas.mfa-operator.io']);
      expect((await getMfa()).status.mfaState).toBe('Enabled');
    });
  },
);
