import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startControlPlane, type ControlPlane } from '../envtest/control-plane.ts';
import { kubectl, kubectlOk } from '../support/kubectl.ts';
import { kubeconform, prepareSchemaDir } from './kubeconform-schemas.ts';
import { CHART, NAMESPACE, RELEASE, named, objectsOf, ofKind, renderChart, type DeploymentSpec } from './manifests.ts';
import { ensurePackagingTools, TOOLS_TIMEOUT_MS, runTool } from './tools.ts';

beforeAll(ensurePackagingTools, TOOLS_TIMEOUT_MS);

const MONITORING = ['monitoring.coreos.com/v1'];
/** Prometheus Operator kinds have no schema here; the alerts tests run their rules through promtool instead. */
const MONITORING_KINDS = ['ServiceMonitor', 'PrometheusRule'];
const OPERATOR_SA = `system:serviceaccount:${NAMESPACE}:mfa-operator-controller-manager`;

let cp: ControlPlane;
let work: string;
let schemas: string;
let ciValues: string[];

beforeAll(async () => {
  cp = await startControlPlane();
  work = await mkdtemp(join(tmpdir(), 'mfa-chart-'));
  schemas = join(work, 'schemas');
  await prepareSchemaDir(cp.kubeconfigPath, schemas);
  ciValues = (await readdir(`${CHART}/ci`)).filter((f) => f.endsWith('-values.yaml')).sort();
}, 300_000);
afterAll(async () => {
  await cp?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const scenarios = () => [
  { name: 'default values', valuesFiles: [] as string[] },
  ...ciValues.map((f) => ({ name: `ci/${f}`, valuesFiles: [`${CHART}/ci/${f}`] })),
];

describe('helm lint', () => {
  it('passes --strict with the default values and with every ci/ values file', async () => {
    for (const { name, valuesFiles } of scenarios()) {
      const result = await runTool('helm', ['lint', '--strict', CHART, ...valuesFiles.flatMap((f) => ['--values', f])]);
      expect(result.code, `${name}: ${result.stdout}${result.stderr}`).toBe(0);
      expect(result.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    }
  });
});

describe("helm template, validated by kubeconform -strict against the API server's own schemas", () => {
  it('has a schema for every kind it renders, and every object is valid', async () => {
    expect(ciValues).toEqual([
      'gcp-store-values.yaml',
      'monitoring-values.yaml',
      'run-network-policy-values.yaml',
      'scoped-rbac-values.yaml',
    ]);
    for (const { name, valuesFiles } of scenarios()) {
      const rendered = await renderChart({ valuesFiles, apiVersions: MONITORING });
      const result = await kubeconform(schemas, rendered, MONITORING_KINDS);
      expect(result.code, `${name}:\n${result.stdout}${result.stderr}`).toBe(0);
      const objects = objectsOf(rendered);
      const skipped = objects.filter((o) => MONITORING_KINDS.includes(o.kind)).length;
      expect(result.stdout).toContain(`Valid: ${objects.length - skipped}, Invalid: 0, Errors: 0, Skipped: ${skipped}`);
    }
  });

  it('refuses what the API server would refuse: a misspelt field, a wrong type', async () => {
    const objects = objectsOf(await renderChart());
    const deployment = named(objects, 'Deployment', 'mfa-operator-controller-manager');
    const misspelt = { ...deployment, spec: { ...(deployment.spec as object), replicass: 2 } };
    const wrongType = { ...deployment, spec: { ...(deployment.spec as object), replicas: 'two' } };
    for (const broken of [misspelt, wrongType]) {
      const result = await kubeconform(schemas, stringify(broken));
      expect(result.code).not.toBe(0);
      expect(result.stdout).toMatch(/Deployment mfa-operator-controller-manager is invalid/);
    }
  });

  it('validates the sample resources against the CRD schemas', async () => {
    const samples = await runTool('kubectl', ['kustomize', 'config/samples']);
    const result = await kubeconform(schemas, samples.stdout);
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toMatch(/Valid: [1-9]/);
  });
});

describe('the rendered chart on a real API server', () => {
  it('applies server-side in a namespace that enforces the restricted Pod Security Standard', async () => {
    const admin = cp.kubeconfigPath;
    await kubectlOk(admin, ['create', 'namespace', NAMESPACE]);
    await kubectlOk(admin, ['label', 'namespace', NAMESPACE, 'pod-security.kubernetes.io/enforce=restricted']);
    await kubectlOk(admin, ['apply', '--server-side', '--field-manager=helm-test', '-f', '-'], await renderChart());
    const pods = JSON.parse(
      await kubectlOk(admin, ['-n', NAMESPACE, 'get', 'deployment', 'mfa-operator-controller-manager', '-o', 'json']),
    );
    expect(pods.spec.replicas).toBe(2);
    // No kubelet runs here, so the pod itself is admitted with a server-side dry run: PodSecurity checks it.
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'restricted-check', namespace: NAMESPACE },
      spec: pods.spec.template.spec,
    };
    const admitted = await kubectl(admin, ['apply', '--dry-run=server', '-f', '-'], JSON.stringify(pod));
    expect(admitted.code, admitted.stderr).toBe(0);
    expect(admitted.stderr).not.toMatch(/violate PodSecurity/);
  });

  it('refuses, in that namespace, a pod that runs as root: the check above can fail', async () => {
    const deployment = JSON.parse(
      await kubectlOk(cp.kubeconfigPath, [
        '-n',
        NAMESPACE,
        'get',
        'deployment',
        'mfa-operator-controller-manager',
        '-o',
        'json',
      ]),
    );
    const spec = deployment.spec.template.spec;
    spec.securityContext = { ...spec.securityContext, runAsNonRoot: false, runAsUser: 0 };
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'root-check', namespace: NAMESPACE }, spec };
    const refused = await kubectl(cp.kubeconfigPath, ['apply', '--dry-run=server', '-f', '-'], JSON.stringify(pod));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/violates PodSecurity "restricted/);
  });

  it('grants the operator ServiceAccount the generated rules cluster-wide', async () => {
    const canI = async (...args: string[]) =>
      (await kubectl(cp.kubeconfigPath, ['auth', 'can-i', ...args, `--as=${OPERATOR_SA}`])).stdout.trim();
    expect(await canI('list', 'secrets', '--all-namespaces')).toBe('yes');
    expect(await canI('patch', 'managedaccountmfas.mfa-operator.io', '-n', 'anywhere')).toBe('yes');
    expect(await canI('update', 'leases.coordination.k8s.io', '-n', NAMESPACE)).toBe('yes');
    // The code service's records (handed login windows, run code counts) are Leases in each account's namespace,
    // read and written by name only (operator/codes/lease-record.ts).
    for (const verb of ['get', 'create', 'update'])
      expect(await canI(verb, 'leases.coordination.k8s.io', '-n', 'default')).toBe('yes');
    for (const verb of ['list', 'watch', 'delete', 'patch'])
      expect(await canI(verb, 'leases.coordination.k8s.io', '-n', 'default')).toBe('no');
    expect(await canI('delete', 'namespaces')).toBe('no');
    expect(await canI('create', 'clusterroles.rbac.authorization.k8s.io')).toBe('no');
  });

  it('with watchNamespaces grants namespaced permissions only there, and cluster-scoped reads cluster-wide', async () => {
    const admin = cp.kubeconfigPath;
    const ns = 'scoped-system';
    await kubectlOk(admin, ['create', 'namespace', ns]);
    await kubectlOk(admin, ['create', 'namespace', 'team-a']);
    const rendered = await renderChart({
      namespace: ns,
      valuesFiles: [`${CHART}/ci/scoped-rbac-values.yaml`],
      set: ['crds.install=false', 'fullnameOverride=scoped'],
    });
    await kubectlOk(admin, ['apply', '--server-side', '-f', '-'], rendered);
    const sa = `system:serviceaccount:${ns}:scoped-controller-manager`;
    const canI = async (...args: string[]) =>
      (await kubectl(admin, ['auth', 'can-i', ...args, `--as=${sa}`])).stdout.trim();
    expect(await canI('list', 'secrets', '-n', 'team-a')).toBe('yes');
    expect(await canI('update', 'managedaccountmfas.mfa-operator.io', '--subresource=status', '-n', 'team-a')).toBe(
      'yes',
    );
    expect(await canI('create', 'jobs.batch', '-n', 'team-a')).toBe('yes');
    expect(await canI('create', 'jobs.batch', '-n', 'team-b')).toBe('no');
    expect(await canI('update', 'leases.coordination.k8s.io', '-n', 'team-a')).toBe('yes');
    expect(await canI('update', 'leases.coordination.k8s.io', '-n', 'team-b')).toBe('no');
    expect(await canI('list', 'secrets', '-n', 'team-b')).toBe('no');
    expect(await canI('list', 'secrets', '--all-namespaces')).toBe('no');
    expect(await canI('list', 'namespaces')).toBe('yes');
    expect(await canI('watch', 'clustermfasecretstores.mfa-operator.io')).toBe('yes');
    const args = (named(objectsOf(rendered), 'Deployment', 'scoped-controller-manager').spec as DeploymentSpec).template
      .spec.containers[0]!.args;
    expect(args).toContain('--namespace=team-a');
  });
});

describe('helm install and uninstall against the API server', () => {
  it("installs with the server's capabilities (no Prometheus Operator: monitoring skipped, said in NOTES) and keeps the CRDs on uninstall", async () => {
    const admin = cp.kubeconfigPath;
    const ns = 'helm-release';
    const install = await runTool('helm', [
      'install',
      RELEASE,
      CHART,
      '--kubeconfig',
      admin,
      '--namespace',
      ns,
      '--create-namespace',
      '--values',
      `${CHART}/ci/monitoring-values.yaml`,
      '--set',
      'fullnameOverride=released',
      '--take-ownership',
    ]);
    expect(install.code, install.stderr).toBe(0);
    expect(install.stdout).toContain('kubectl get mfa -A');
    expect(install.stdout).toContain('does not serve\nmonitoring.coreos.com/v1');
    const manifest = objectsOf(
      (await runTool('helm', ['get', 'manifest', RELEASE, '--kubeconfig', admin, '--namespace', ns])).stdout,
    );
    expect(ofKind(manifest, 'ServiceMonitor')).toEqual([]);
    expect(ofKind(manifest, 'PrometheusRule')).toEqual([]);
    expect(ofKind(manifest, 'CustomResourceDefinition')).toHaveLength(3);

    const uninstall = await runTool('helm', ['uninstall', RELEASE, '--kubeconfig', admin, '--namespace', ns]);
    expect(uninstall.code, uninstall.stderr).toBe(0);
    expect(uninstall.stdout + uninstall.stderr).toMatch(/kept due to the resource policy/);
    const crds = await kubectlOk(admin, ['get', 'crd', '-o', 'name']);
    expect(crds).toContain('managedaccountmfas.mfa-operator.io');
    expect((await kubectl(admin, ['-n', ns, 'get', 'deployment', 'released-controller-manager'])).code).not.toBe(0);
  });
});

describe("the chart's run NetworkPolicy on a real API server", () => {
  it('the run NetworkPolicy is accepted by the API server', async () => {
    const ns = 'run-policy-check';
    await kubectlOk(cp.kubeconfigPath, ['create', 'namespace', ns]);
    const rendered = await renderChart({
      valuesFiles: [`${CHART}/ci/run-network-policy-values.yaml`],
      set: [`runNetworkPolicy.namespaces={${ns}}`],
    });
    const policy = ofKind(objectsOf(rendered), 'NetworkPolicy').find((p) => p.metadata.namespace === ns)!;
    const applied = await kubectl(
      cp.kubeconfigPath,
      ['apply', '--server-side', '--dry-run=server', '-f', '-'],
      stringify(policy),
    );
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain(
      'networkpolicy.networking.k8s.io/mfa-operator-automation-runs serverside-applied (server dry run)',
    );
  });
});
