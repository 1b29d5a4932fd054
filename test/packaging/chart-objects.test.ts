import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ManagedAccountMfa } from '../../operator/api/v1alpha1/types.generated.ts';
import { runObjects } from '../../operator/automation/run-objects.ts';
import { DEFAULT_RUNNER_SETTINGS } from '../../operator/automation/runner-settings.ts';
import { DEPLOYMENT_HOSTED } from '../../connectors/index.ts';
import {
  CHART,
  named,
  objectsOf,
  ofKind,
  renderChart,
  tryRenderChart,
  type DeploymentSpec,
  type KubeObject,
} from './manifests.ts';
import { ensurePackagingTools, TOOLS_TIMEOUT_MS } from './tools.ts';

/** What the rendered chart says, checked against itself and the operator's own run objects (no API server). */

beforeAll(ensurePackagingTools, TOOLS_TIMEOUT_MS);

const MONITORING = ['monitoring.coreos.com/v1'];

describe("the chart's own objects agree with each other", () => {
  it('the ServiceMonitor selects the metrics Service by its labels and port name', async () => {
    const objects = objectsOf(
      await renderChart({ valuesFiles: [`${CHART}/ci/monitoring-values.yaml`], apiVersions: MONITORING }),
    );
    const monitor = named(objects, 'ServiceMonitor', 'mfa-operator-controller-manager') as KubeObject & {
      spec: { selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string }> };
    };
    const service = named(objects, 'Service', 'mfa-operator-metrics') as KubeObject & {
      spec: { ports: Array<{ name: string }> };
    };
    expect(service.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    expect(service.spec.ports.map((p) => p.name)).toContain(monitor.spec.endpoints[0]!.port);
    expect(monitor.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack' });
  });

  it('takes allowedLoginHosts for every connector hosted per deployment, and passes each to the controller for its runs only', async () => {
    for (const id of DEPLOYMENT_HOSTED) {
      const name = `MFA_${id.toUpperCase().replaceAll('-', '_')}_ALLOWED_LOGIN_HOSTS`;
      const env = async (set: string[]) =>
        (
          named(objectsOf(await renderChart({ set })), 'Deployment', 'mfa-operator-controller-manager')
            .spec as DeploymentSpec
        ).template.spec.containers[0]!.env.filter((e) => e.name.endsWith('_ALLOWED_LOGIN_HOSTS'));
      expect(await env([`connectors.${id}.allowedLoginHosts={app.example.com,*.shop.example}`])).toEqual([
        { name, value: 'app.example.com,*.shop.example' },
      ]);
      expect(await env([])).toEqual([]);
      const refused = await tryRenderChart({ set: [`connectors.${id}.allowedLoginHosts={https://app.example.com}`] });
      expect(refused.stderr).toMatch(new RegExp(`connectors/${id}/allowedLoginHosts/0.*does not match pattern`));
    }
  });

  it("passes a custom theme's selectors as JSON, and refuses an element name the connector does not know", async () => {
    const env = async (set: string[]) =>
      (
        named(objectsOf(await renderChart({ set })), 'Deployment', 'mfa-operator-controller-manager')
          .spec as DeploymentSpec
      ).template.spec.containers[0]!.env.filter((e) => e.name.endsWith('_SELECTORS'));
    const set = [
      'connectors.keycloak.selectors.password=#acme-password',
      'connectors.keycloak.selectors.signIn=#acme-go',
    ];
    const [variable] = await env(set);
    expect(variable?.name).toBe('MFA_KEYCLOAK_SELECTORS');
    expect(JSON.parse(variable?.value ?? '')).toEqual({ password: '#acme-password', signIn: '#acme-go' });
    expect(await env([])).toEqual([]);
    const refused = await tryRenderChart({ set: ['connectors.keycloak.selectors.pasword=#p'] });
    expect(refused.stderr).toMatch(/connectors\/keycloak\/selectors': additional properties 'pasword' not allowed/);
  });

  it("bounds the operator's V8 heap through NODE_OPTIONS by default, and leaves Node's defaults with nodeOptions empty", async () => {
    const nodeOptions = async (set: string[]) =>
      (
        named(objectsOf(await renderChart({ set })), 'Deployment', 'mfa-operator-controller-manager')
          .spec as DeploymentSpec
      ).template.spec.containers[0]!.env.find((e) => e.name === 'NODE_OPTIONS')?.value;
    expect(await nodeOptions([])).toMatch(/^--max-old-space-size=\d+ --max-semi-space-size=\d+$/);
    expect(await nodeOptions(['nodeOptions='])).toBeUndefined();
  });

  it('puts the Workload Identity annotation on the operator ServiceAccount and mounts the code-service certificate', async () => {
    const objects = objectsOf(await renderChart({ valuesFiles: [`${CHART}/ci/gcp-store-values.yaml`] }));
    const sa = named(objects, 'ServiceAccount', 'mfa-operator-controller-manager');
    expect(sa.metadata.annotations).toEqual({
      'iam.gke.io/gcp-service-account': 'mfa-operator@my-security-project.iam.gserviceaccount.com',
    });
    const container = (named(objects, 'Deployment', 'mfa-operator-controller-manager').spec as DeploymentSpec).template
      .spec.containers[0]!;
    expect(container.args).toEqual(
      expect.arrayContaining([
        '--code-service-port=8443',
        '--code-service-cert=/etc/mfa-operator/code-service-tls/tls.crt',
      ]),
    );
    expect(named(objects, 'ClusterRole', 'mfa-operator-code-service-role')).toBeDefined();
    expect(named(objects, 'Service', 'mfa-operator-code-service')).toBeDefined();
  });

  it('serves runs their codes by default: its own CA and certificate for the Service, and the URL runs use', async () => {
    const objects = objectsOf(await renderChart());
    const container = (named(objects, 'Deployment', 'mfa-operator-controller-manager').spec as DeploymentSpec).template
      .spec.containers[0]!;
    expect(container.args).toContain(
      '--code-service-run-url=https://mfa-operator-code-service.mfa-operator-system.svc:443',
    );
    const tls = named(objects, 'Secret', 'mfa-operator-code-service-tls') as KubeObject & {
      type: string;
      data: Record<string, string>;
    };
    expect(tls.type).toBe('kubernetes.io/tls');
    expect(Object.keys(tls.data).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    const cert = new X509Certificate(Buffer.from(tls.data['tls.crt']!, 'base64'));
    expect(cert.subjectAltName).toContain('DNS:mfa-operator-code-service.mfa-operator-system.svc');
    expect(cert.verify(new X509Certificate(Buffer.from(tls.data['ca.crt']!, 'base64')).publicKey)).toBe(true);
    expect(cert.subjectAltName).not.toContain('IP Address');
  });

  it('with codeService.aggregatedApi: an APIService of its own group, trusting the CA that signed the serving certificate', async () => {
    const objects = objectsOf(await renderChart({ set: ['codeService.aggregatedApi.enabled=true'] }));
    const apiService = named(objects, 'APIService', 'v1alpha1.codes.mfa-operator.io') as KubeObject & {
      spec: { group: string; service: { name: string; namespace: string; port: number }; caBundle: string };
    };
    const tls = named(objects, 'Secret', 'mfa-operator-code-service-tls') as KubeObject & {
      data: Record<string, string>;
    };
    const service = named(objects, 'Service', 'mfa-operator-code-service') as KubeObject & {
      spec: { ports: { name: string; port: number; targetPort: string }[] };
    };
    const container = (named(objects, 'Deployment', 'mfa-operator-controller-manager').spec as DeploymentSpec).template
      .spec.containers[0]!;
    const reader = named(objects, 'RoleBinding', 'mfa-operator-auth-reader') as KubeObject & {
      roleRef: { name: string };
    };

    // Not the CRDs' group: an APIService for mfa-operator.io/v1alpha1 would take it over.
    expect(apiService.spec.group).toBe('codes.mfa-operator.io');
    expect(apiService.spec.service).toEqual({
      name: 'mfa-operator-code-service',
      namespace: 'mfa-operator-system',
      port: 8444,
    });
    expect(apiService.spec.caBundle).toBe(tls.data['ca.crt']);
    expect(service.spec.ports).toContainEqual(
      expect.objectContaining({ name: 'aggregated-api', port: 8444, targetPort: 'aggregated-api' }),
    );
    expect(container.args).toContain('--code-service-aggregated-port=8444');
    expect(reader.metadata.namespace).toBe('kube-system');
    expect(reader.roleRef.name).toBe('extension-apiserver-authentication-reader');
    expect(ofKind(objectsOf(await renderChart()), 'APIService')).toEqual([]);
  });

  it('with codeService.aggregatedApi and a Secret of your own: refuses to render without a CA for the APIService', async () => {
    const set = ['codeService.aggregatedApi.enabled=true', 'codeService.tls.secretName=own-tls'];
    const refused = await tryRenderChart({ set });
    const injected = objectsOf(
      await renderChart({ set: [...set, 'codeService.aggregatedApi.injectCaFrom=mfa-operator-system/own'] }),
    );

    expect(refused.stderr).toContain('set caBundle (base64 PEM of the CA that signed it) or injectCaFrom');
    expect(named(injected, 'APIService', 'v1alpha1.codes.mfa-operator.io').metadata.annotations).toEqual({
      'cert-manager.io/inject-ca-from': 'mfa-operator-system/own',
    });
  });

  it('with codeService.service.clusterIP (a cluster without DNS): the Service takes it, the certificate names it and runs use it', async () => {
    const objects = objectsOf(await renderChart({ set: ['codeService.service.clusterIP=198.18.128.11'] }));
    expect((named(objects, 'Service', 'mfa-operator-code-service').spec as { clusterIP?: string }).clusterIP).toBe(
      '198.18.128.11',
    );
    expect(
      (named(objects, 'Service', 'mfa-operator-metrics').spec as { clusterIP?: string }).clusterIP,
    ).toBeUndefined();
    const container = (named(objects, 'Deployment', 'mfa-operator-controller-manager').spec as DeploymentSpec).template
      .spec.containers[0]!;
    expect(container.args).toContain('--code-service-run-url=https://198.18.128.11:443');
    const tls = named(objects, 'Secret', 'mfa-operator-code-service-tls') as KubeObject & {
      data: Record<string, string>;
    };
    const cert = new X509Certificate(Buffer.from(tls.data['tls.crt']!, 'base64'));
    expect(cert.subjectAltName).toContain('IP Address:198.18.128.11');
    expect(cert.subjectAltName).toContain('DNS:mfa-operator-code-service.mfa-operator-system.svc');
    const refused = await tryRenderChart({ set: ['codeService.service.clusterIP=mfa.example.com'] });
    expect(refused.stderr).toMatch(/codeService\/service\/clusterIP.*does not match pattern/);
  });

  it('the run NetworkPolicy selects the pods the operator creates for runs (not the controller), admits no ingress, and lets out only DNS, the API server and public HTTPS', async () => {
    const objects = objectsOf(await renderChart({ valuesFiles: [`${CHART}/ci/run-network-policy-values.yaml`] }));
    const policies = ofKind(objects, 'NetworkPolicy').filter(
      (p) => p.metadata.name === 'mfa-operator-automation-runs',
    ) as RunPolicy[];
    expect(policies.map((p) => p.metadata.namespace)).toEqual(['team-a', 'team-b']);
    const policy = policies[0]!;
    const selects = (labels: Record<string, string> = {}) =>
      Object.entries(policy.spec.podSelector.matchLabels).every(([k, v]) => labels[k] === v);
    const mfa = {
      metadata: { name: 'brand', namespace: 'team-a', uid: '00000000-0000-4000-8000-000000000001', generation: 1 },
      spec: { connector: 'demo', account: { credentialsSecretRef: { name: 'brand-login' } } },
    } as ManagedAccountMfa;
    const { job } = runObjects({
      mfa,
      trigger: 'Created',
      run: { accountName: 'brand', accountUid: mfa.metadata.uid!, action: 'enable', generation: 1, attempt: 1 },
      settings: { ...DEFAULT_RUNNER_SETTINGS, image: 'runner:test' },
    });
    expect(selects(job.spec!.template.metadata!.labels)).toBe(true);
    const controller = named(objects, 'Deployment', 'mfa-operator-controller-manager').spec as {
      template: { metadata: { labels: Record<string, string> } };
    };
    expect(selects(controller.template.metadata.labels)).toBe(false);

    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.ingress).toBeUndefined();
    const [dns, apiServer, codeService, ...apps] = policy.spec.egress;
    expect(dns!.ports).toEqual([
      { port: 53, protocol: 'UDP' },
      { port: 53, protocol: 'TCP' },
    ]);
    expect(dns!.to).toEqual([
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
        podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
      },
    ]);
    expect(apiServer!.to).toEqual([{ ipBlock: { cidr: '203.0.113.10/32' } }, { ipBlock: { cidr: '203.0.113.11/32' } }]);
    // A run signs in with codes from the code service (issue 11, item 8): only the operator's pods, on its port.
    expect(codeService!.to).toEqual([
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'mfa-operator-system' } },
        podSelector: {
          matchLabels: {
            'app.kubernetes.io/name': 'mfa-operator',
            'app.kubernetes.io/instance': 'mfa-operator',
            'app.kubernetes.io/component': 'controller',
          },
        },
      },
    ]);
    expect(codeService!.ports).toEqual([{ port: 8443, protocol: 'TCP' }]);
    expect(apps.flatMap((a) => a.ports)).toEqual([
      { port: 443, protocol: 'TCP' },
      { port: 443, protocol: 'TCP' },
    ]);
    expect(apps.map((a) => a.to[0]!.ipBlock)).toEqual([
      {
        cidr: '0.0.0.0/0',
        except: expect.arrayContaining(['169.254.0.0/16', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16']),
      },
      { cidr: '::/0', except: expect.arrayContaining(['fe80::/10', 'fc00::/7']) },
    ]);
  });
});

interface RunPolicy extends KubeObject {
  spec: {
    podSelector: { matchLabels: Record<string, string> };
    policyTypes: string[];
    ingress?: unknown[];
    egress: Array<{
      to: Array<{ ipBlock?: { cidr: string; except?: string[] } } & Record<string, unknown>>;
      ports: Array<{ port: number; protocol: string }>;
    }>;
  };
}
