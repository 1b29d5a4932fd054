import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '../envtest/control-plane.ts';
import { REPO } from '../support/cluster.ts';
import { kubectl, kubectlOk } from '../support/kubectl.ts';
import { kubeconform, prepareSchemaDir } from './kubeconform-schemas.ts';
import { NAMESPACE, named, objectsOf, ofKind, renderChart, renderKustomize, type KubeObject } from './manifests.ts';
import { bindings, grantedPermissions } from './rbac-rules.ts';
import { ensurePackagingTools, TOOLS_TIMEOUT_MS } from './tools.ts';

beforeAll(ensurePackagingTools, TOOLS_TIMEOUT_MS);

interface Container {
  command: string[];
  args: string[];
  env: Array<{ name: string }>;
  securityContext: object;
  ports: object[];
}
interface PodSpec {
  securityContext: object;
  containers: Container[];
  volumes: object[];
}
const podSpec = (objects: KubeObject[]) =>
  (named(objects, 'Deployment', 'mfa-operator-controller-manager').spec as { template: { spec: PodSpec } }).template
    .spec;

let cp: ControlPlane;
let work: string;
let schemas: string;
let kustomized: KubeObject[];
let chart: KubeObject[];

beforeAll(async () => {
  cp = await startControlPlane();
  work = await mkdtemp(join(tmpdir(), 'mfa-kustomize-'));
  schemas = join(work, 'schemas');
  await prepareSchemaDir(cp.kubeconfigPath, schemas);
  kustomized = objectsOf(await renderKustomize(`${REPO}/config/default`));
  chart = objectsOf(await renderChart());
}, 300_000);
afterAll(async () => {
  await cp?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('kubectl kustomize config/default', () => {
  it("renders objects kubeconform -strict finds valid against the API server's schemas", async () => {
    const result = await kubeconform(schemas, await renderKustomize(`${REPO}/config/default`));
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(`Valid: ${kustomized.length}, Invalid: 0, Errors: 0, Skipped: 0`);
  });

  it('puts everything namespaced in mfa-operator-system', () => {
    const clusterScoped = ['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding'];
    for (const object of kustomized.filter((o) => !clusterScoped.includes(o.kind)))
      expect(object.metadata.namespace, `${object.kind}/${object.metadata.name}`).toBe(NAMESPACE);
  });

  it('applies server-side to a real API server, whose restricted namespace admits the operator pod', async () => {
    const admin = cp.kubeconfigPath;
    await kubectlOk(admin, ['apply', '--server-side', '-k', `${REPO}/config/default`]);
    await kubectlOk(admin, [
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd/managedaccountmfas.mfa-operator.io',
    ]);
    const deployment = JSON.parse(
      await kubectlOk(admin, ['-n', NAMESPACE, 'get', 'deployment', 'mfa-operator-controller-manager', '-o', 'json']),
    );
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'restricted-check', namespace: NAMESPACE },
      spec: deployment.spec.template.spec,
    };
    const admitted = await kubectl(admin, ['apply', '--dry-run=server', '-f', '-'], JSON.stringify(pod));
    expect(admitted.code, admitted.stderr).toBe(0);
    const canI = async (...args: string[]) =>
      (
        await kubectl(admin, [
          'auth',
          'can-i',
          ...args,
          `--as=system:serviceaccount:${NAMESPACE}:mfa-operator-controller-manager`,
        ])
      ).stdout.trim();
    expect(await canI('watch', 'secrets', '--all-namespaces')).toBe('yes');
    expect(await canI('get', 'leases.coordination.k8s.io', '-n', NAMESPACE)).toBe('yes');
  });

  it('with the Prometheus component adds the ServiceMonitor and the generated PrometheusRule', async () => {
    const objects = objectsOf(await renderKustomize(`${REPO}/test/packaging/kustomize/with-prometheus`));
    expect(named(objects, 'PrometheusRule', 'mfa-operator-alerts').metadata.namespace).toBe(NAMESPACE);
    const monitor = named(objects, 'ServiceMonitor', 'mfa-operator-controller-manager') as KubeObject & {
      spec: { selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string }> };
    };
    const service = named(objects, 'Service', 'mfa-operator-metrics') as KubeObject & {
      spec: { ports: Array<{ name: string }> };
    };
    expect(service.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    expect(service.spec.ports.map((p) => p.name)).toContain(monitor.spec.endpoints[0]!.port);
  });
});

describe('the aggregated-API component (codes through the API server)', () => {
  let objects: KubeObject[];
  let fromChart: KubeObject[];
  beforeAll(async () => {
    objects = objectsOf(await renderKustomize(`${REPO}/test/packaging/kustomize/with-aggregated-api`));
    fromChart = objectsOf(await renderChart({ set: ['codeService.aggregatedApi.enabled=true'] }));
  });
  const apiService = (all: KubeObject[]) =>
    named(all, 'APIService', 'v1alpha1.codes.mfa-operator.io') as KubeObject & {
      spec: { service: { namespace: string; name: string; port: number }; caBundle?: string };
    };

  it('registers the same APIService as the chart, on a port the Service and the container both name', () => {
    // The chart knows its own CA; kustomize leaves the caBundle to cert-manager's cainjector.
    expect({ ...apiService(objects).spec, caBundle: 'injected' }).toEqual({
      ...apiService(fromChart).spec,
      caBundle: 'injected',
    });
    expect(apiService(objects).metadata.annotations).toMatchObject({
      'cert-manager.io/inject-ca-from': `${NAMESPACE}/mfa-operator-code-service`,
    });
    const target = apiService(objects).spec.service;
    const service = named(objects, 'Service', target.name) as KubeObject & {
      spec: { ports: Array<{ name: string; port: number; targetPort: string }> };
    };
    expect(service.metadata.namespace).toBe(target.namespace);
    const port = service.spec.ports.find((p) => p.port === target.port);
    expect(port?.targetPort).toBe('aggregated-api');
    const ports = podSpec(objects).containers[0]!.ports as Array<{ name: string }>;
    expect(ports.map((p) => p.name)).toContain('aggregated-api');
    // The certificate the front proxy is shown must name the Service the APIService points at.
    const certificate = named(objects, 'Certificate', 'mfa-operator-code-service') as KubeObject & {
      spec: { dnsNames: string[] };
    };
    expect(certificate.spec.dnsNames).toContain(`${target.name}.${target.namespace}.svc`);
  });

  it('runs the operator with the same flags as the chart, and binds the same front-proxy reader in kube-system', () => {
    expect(podSpec(objects).containers[0]!.args).toEqual(podSpec(fromChart).containers[0]!.args);
    const reader = (all: KubeObject[]) =>
      ofKind(all, 'RoleBinding').find(
        (b) =>
          (b as KubeObject & { roleRef: { name: string } }).roleRef.name ===
          'extension-apiserver-authentication-reader',
      );
    expect(reader(objects)?.metadata.namespace).toBe('kube-system');
    expect(reader(objects)).toMatchObject({
      roleRef: reader(fromChart)!.roleRef,
      subjects: reader(fromChart)!.subjects,
    });
    const clusterScoped = ['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'APIService'];
    for (const object of objects.filter((o) => !clusterScoped.includes(o.kind) && o !== reader(objects)))
      expect(object.metadata.namespace, `${object.kind}/${object.metadata.name}`).toBe(NAMESPACE);
  });

  it('applies to a real API server, where the operator may then read the front-proxy CA', async () => {
    const admin = cp.kubeconfigPath;
    // cert-manager is not installed on the test API server: its objects are left out, the rest applied as rendered.
    const applicable = objects.filter((o) => !o.apiVersion.startsWith('cert-manager.io/'));
    const applied = await kubectl(
      admin,
      ['apply', '--server-side', '--force-conflicts', '-f', '-'],
      applicable.map((o) => JSON.stringify(o)).join('\n'),
    );
    expect(applied.code, applied.stderr).toBe(0);
    const registered = JSON.parse(
      await kubectlOk(admin, ['get', 'apiservice', 'v1alpha1.codes.mfa-operator.io', '-o', 'json']),
    );
    expect(registered.spec.service).toEqual(apiService(objects).spec.service);
    const canI = await kubectl(admin, [
      'auth',
      'can-i',
      'get',
      'configmaps/extension-apiserver-authentication',
      '-n',
      'kube-system',
      `--as=system:serviceaccount:${NAMESPACE}:mfa-operator-controller-manager`,
    ]);
    expect(canI.stdout.trim()).toBe('yes');
    // An APIService nobody serves breaks discovery for every client: take it away again.
    await kubectlOk(admin, ['delete', 'apiservice', 'v1alpha1.codes.mfa-operator.io']);
  });
});

describe('the chart and kustomize install the same operator', () => {
  it('grant the same RBAC rules under the same names, bound to the same ServiceAccount', () => {
    expect(grantedPermissions(chart)).toEqual(grantedPermissions(kustomized));
    expect(grantedPermissions(chart).length).toBeGreaterThan(5);
    expect(bindings(chart)).toEqual(bindings(kustomized));
  });

  it('install the same CRDs', () => {
    const crds = (objects: KubeObject[]) =>
      Object.fromEntries(ofKind(objects, 'CustomResourceDefinition').map((c) => [c.metadata.name, c.spec]));
    expect(Object.keys(crds(chart)).sort()).toEqual([
      'clustermfasecretstores.mfa-operator.io',
      'managedaccountmfas.mfa-operator.io',
      'mfasecretstores.mfa-operator.io',
    ]);
    expect(crds(chart)).toEqual(crds(kustomized));
    for (const crd of ofKind(chart, 'CustomResourceDefinition'))
      expect(crd.metadata.annotations).toMatchObject({ 'helm.sh/resource-policy': 'keep' });
  });

  it('run the operator with the same command, flags, environment, security contexts and volumes', () => {
    const [fromChart, fromKustomize] = [podSpec(chart), podSpec(kustomized)];
    const container = (spec: PodSpec) => ({ ...spec.containers[0]!, image: undefined });
    expect(container(fromChart).command).toEqual(container(fromKustomize).command);
    expect(container(fromChart).args).toEqual(container(fromKustomize).args);
    expect(container(fromChart).env).toEqual(container(fromKustomize).env);
    expect(container(fromChart).securityContext).toEqual(container(fromKustomize).securityContext);
    expect(fromChart.securityContext).toEqual(fromKustomize.securityContext);
    expect(fromChart.volumes).toEqual(fromKustomize.volumes);
  });

  it('give the runner the same settings', () => {
    const settings = (objects: KubeObject[]) =>
      (named(objects, 'ConfigMap', 'mfa-operator-runner-config').data as Record<string, string>)['runner-config.yaml'];
    expect(objectsOf(settings(chart)!)).toEqual(objectsOf(settings(kustomized)!));
  });
});
