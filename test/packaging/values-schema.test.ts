import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEPLOYMENT_SELECTORS } from '../../connectors/index.ts';
import { REPO } from '../support/cluster.ts';
import { CHART, objectsOf, tryRenderChart } from './manifests.ts';
import { ensurePackagingTools, TOOLS_TIMEOUT_MS } from './tools.ts';

beforeAll(ensurePackagingTools, TOOLS_TIMEOUT_MS);

/** Each bad value, and what the refusal must say so the user can find and fix it. */
const REFUSED: Array<{ what: string; set: string[]; says: RegExp[] }> = [
  { what: 'a misspelt key', set: ['replicaCont=2'], says: [/additional properties? 'replicaCont' not allowed/i] },
  { what: 'a number as text', set: ['workers=four'], says: [/\/workers/, /got string, want integer/i] },
  { what: 'an unknown log level', set: ['logLevel=verbose'], says: [/\/logLevel/, /value must be one of/i] },
  {
    what: 'two replicas without leader election',
    set: ['leaderElection.enabled=false'],
    says: [/\/replicaCount/, /maximum: got 2, want 1/i],
  },
  {
    what: 'two watched namespaces (the operator watches one, or all)',
    set: ['watchNamespaces={a,b}'],
    says: [/\/watchNamespaces/, /maxItems: got 2, want 1/i],
  },
  {
    what: 'a namespace name Kubernetes would refuse',
    set: ['watchNamespaces={Team_A}'],
    says: [/\/watchNamespaces\/0/, /does not match pattern/i],
  },
  {
    what: 'a Workload Identity that is not a Google service account',
    set: ['gcp.workloadIdentityServiceAccount=ops@example.com'],
    says: [/\/gcp\/workloadIdentityServiceAccount/, /does not match pattern/i],
  },
  {
    what: 'running as root',
    set: ['securityContext.runAsUser=0'],
    says: [/\/securityContext\/runAsUser/, /minimum: got 0, want 1/i],
  },
  {
    what: 'a writable root filesystem',
    set: ['securityContext.readOnlyRootFilesystem=false'],
    says: [/\/securityContext\/readOnlyRootFilesystem/, /value must be true/i],
  },
  {
    what: 'privilege escalation',
    set: ['securityContext.allowPrivilegeEscalation=true'],
    says: [/\/securityContext\/allowPrivilegeEscalation/, /value must be false/i],
  },
  {
    what: 'an image digest that is not sha256',
    set: ['image.digest=latest'],
    says: [/\/image\/digest/, /does not match pattern/i],
  },
  {
    what: 'a scrape interval that is not a duration',
    set: ['metrics.serviceMonitor.interval=often'],
    says: [/\/metrics\/serviceMonitor\/interval/, /does not match pattern/i],
  },
  {
    what: 'an override for an alert that does not exist',
    set: ['metrics.prometheusRule.forOverrides.SomethingElse=1h'],
    says: [/\/metrics\/prometheusRule\/forOverrides/, /additional properties 'SomethingElse' not allowed/],
  },
  {
    what: 'disabling an alert that does not exist',
    set: ['metrics.prometheusRule.disabledAlerts={Nope}'],
    says: [/\/metrics\/prometheusRule\/disabledAlerts\/0/, /value must be one of 'MfaOperatorAccountWithoutMfa'/],
  },
  {
    what: 'a lease shorter than its renew deadline',
    set: ['leaderElection.leaseDurationSeconds=5'],
    says: [/leaderElection.leaseDurationSeconds \(5\) must be greater than leaderElection.renewDeadlineSeconds \(10\)/],
  },
  {
    what: 'a PodDisruptionBudget no drain could satisfy',
    set: ['podDisruptionBudget.minAvailable=2'],
    says: [/podDisruptionBudget.minAvailable \(2\) must be below replicaCount \(2\)/],
  },
  {
    what: "a run NetworkPolicy without the API server's addresses",
    set: ['runNetworkPolicy.enabled=true', 'watchNamespaces={team-a}'],
    says: [/runNetworkPolicy\.apiServer\.cidrs: list the API server's addresses/],
  },
  {
    what: 'a run NetworkPolicy with no namespace to cover',
    set: ['runNetworkPolicy.enabled=true', 'runNetworkPolicy.apiServer.cidrs={203.0.113.10/32}'],
    says: [/runNetworkPolicy\.namespaces: list the namespaces/],
  },
  {
    what: 'an API server address that is no CIDR',
    set: ['runNetworkPolicy.apiServer.cidrs={10.0.0.1}'],
    says: [/\/runNetworkPolicy\/apiServer\/cidrs\/0/, /does not match pattern/i],
  },
  {
    what: 'an app egress rule without ports',
    set: ['runNetworkPolicy.appEgress[0].cidr=203.0.113.0/24'],
    says: [/\/runNetworkPolicy\/appEgress\/0/, /missing propert(y|ies) 'ports'/i],
  },
  {
    what: 'a run pod namespace Kubernetes would refuse',
    set: ['runNetworkPolicy.namespaces={Team_A}'],
    says: [/\/runNetworkPolicy\/namespaces\/0/, /does not match pattern/i],
  },
  {
    what: 'the code service on the metrics port',
    set: ['codeService.enabled=true', 'codeService.tls.secretName=tls', 'codeService.port=8080'],
    says: [/codeService.port and httpPort are both 8080/],
  },
];

describe("values.schema.json and the chart's own checks", () => {
  it.each(REFUSED)('refuse $what, saying where and why', async ({ set, says }) => {
    const result = await tryRenderChart({ set });
    expect(result.code).not.toBe(0);
    for (const message of says) expect(result.stderr).toMatch(message);
  });

  it('accept the same values when they are right', async () => {
    const result = await tryRenderChart({
      set: [
        'replicaCount=1',
        'leaderElection.enabled=false',
        'workers=8',
        'logLevel=debug',
        'watchNamespaces={team-a}',
        'codeService.enabled=true',
        'codeService.tls.secretName=mfa-tls',
        'gcp.workloadIdentityServiceAccount=mfa-op@proj-123.iam.gserviceaccount.com',
        'metrics.serviceMonitor.interval=15s',
        'metrics.prometheusRule.forOverrides.MfaOperatorDown=20m',
        'podDisruptionBudget.minAvailable=1',
        'runNetworkPolicy.enabled=true',
        'runNetworkPolicy.apiServer.cidrs={203.0.113.10/32,2001:db8::10/128}',
      ],
    });
    expect(result.code, result.stderr).toBe(0);
    const kinds = objectsOf(result.stdout).map((o) => o.kind);
    expect(kinds).toContain('Deployment');
    expect(kinds).toContain('NetworkPolicy'); // the run pods' policy, in watchNamespaces
    expect(kinds).not.toContain('PodDisruptionBudget'); // one replica: a PDB would block every drain
  });

  it('name exactly the alerts of config/prometheus/alert-rules.yaml where values refer to alerts', async () => {
    const alerts = (
      parse(await readFile(`${REPO}/config/prometheus/alert-rules.yaml`, 'utf8')).groups as Array<{
        rules: Array<{ alert: string }>;
      }>
    ).flatMap((g) => g.rules.map((r) => r.alert));
    const rule = JSON.parse(await readFile(`${CHART}/values.schema.json`, 'utf8')).properties.metrics.properties
      .prometheusRule.properties;
    expect(rule.disabledAlerts.items.enum).toEqual(alerts);
    expect(Object.keys(rule.forOverrides.properties)).toEqual(alerts);
  });

  it("name exactly the elements the Keycloak connector lets a deployment's theme rename", async () => {
    const schema = JSON.parse(await readFile(`${CHART}/values.schema.json`, 'utf8'));
    const keycloak = schema.$defs[schema.properties.connectors.properties.keycloak.$ref.split('/').at(-1)];
    expect(Object.keys(keycloak.properties.selectors.properties)).toEqual(DEPLOYMENT_SELECTORS.keycloak);
  });
});
