import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { REPO } from '../support/cluster.ts';
import { named, objectsOf, renderChart, type KubeObject } from './manifests.ts';
import { ensurePackagingTools, TOOLS_TIMEOUT_MS, runTool } from './tools.ts';

beforeAll(ensurePackagingTools, TOOLS_TIMEOUT_MS);

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
interface RuleGroup {
  name: string;
  rules: AlertRule[];
}

const SOURCE = `${REPO}/config/prometheus/alert-rules.yaml`;
const MONITORING = ['monitoring.coreos.com/v1'];
let work: string;
let source: RuleGroup[];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'mfa-alerts-'));
  source = parse(await readFile(SOURCE, 'utf8')).groups;
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const alertsOf = (groups: RuleGroup[]) => groups.flatMap((g) => g.rules);

/** The anchors GitHub gives the headings of a Markdown file. */
function headingAnchors(markdown: string): Set<string> {
  return new Set(
    [...markdown.matchAll(/^#+ (.+)$/gm)].map(([, title]) =>
      title!
        .trim()
        .toLowerCase()
        .replace(/[^\w\- ]/g, '')
        .replace(/ /g, '-'),
    ),
  );
}

async function promtoolCheck(groups: RuleGroup[]) {
  const file = join(work, `rules-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, stringify({ groups }));
  return runTool('promtool', ['check', 'rules', file]);
}

function rulesFromChart(objects: KubeObject[]): RuleGroup[] {
  return (named(objects, 'PrometheusRule', 'mfa-operator-alerts').spec as { groups: RuleGroup[] }).groups;
}

describe('the alert rules (config/prometheus/alert-rules.yaml)', () => {
  it('pass promtool check rules', async () => {
    const result = await runTool('promtool', ['check', 'rules', SOURCE]);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(result.stdout).toContain(`SUCCESS: ${alertsOf(source).length} rules found`);
  });

  it('pass their promtool unit tests, one scenario per alert', async () => {
    const result = await runTool('promtool', ['test', 'rules', 'test/packaging/prometheus/alert-rules.test.yaml']);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const tested = await readFile(`${REPO}/test/packaging/prometheus/alert-rules.test.yaml`, 'utf8');
    for (const { alert } of alertsOf(source))
      expect(tested, `a promtool test for ${alert}`).toContain(
        `alertname: ${alert}\n        exp_alerts:\n          - exp_labels`,
      );
  });

  it('each carry a severity, a summary, a description and a runbook section that exists in docs/operations.md', async () => {
    const anchors = headingAnchors(await readFile(`${REPO}/docs/operations.md`, 'utf8'));
    for (const rule of alertsOf(source)) {
      expect(['warning', 'critical']).toContain(rule.labels.severity);
      expect(rule.annotations.summary, rule.alert).toBeTruthy();
      expect(rule.annotations.description, rule.alert).toBeTruthy();
      const [page, anchor] = rule.annotations.runbook_url!.split('#');
      expect(page).toMatch(/\/docs\/operations\.md$/);
      expect(anchors, `docs/operations.md has a heading for #${anchor}`).toContain(anchor);
    }
  });

  it('query only metrics the operator defines', async () => {
    const defined = await operatorMetricNames();
    for (const rule of alertsOf(source)) {
      for (const [used] of rule.expr.matchAll(/\bmfa_operator_\w+/g))
        expect([...defined], `${rule.alert} queries ${used}`).toContain(used);
    }
  });

  it('are exactly what the kustomize PrometheusRule carries', async () => {
    const generated = parse(await readFile(`${REPO}/config/prometheus/prometheus_rule.yaml`, 'utf8'));
    expect(generated.kind).toBe('PrometheusRule');
    expect(generated.spec.groups).toEqual(source);
  });
});

describe('the chart PrometheusRule', () => {
  it('is the source unchanged with default values, and valid for promtool', async () => {
    const objects = objectsOf(
      await renderChart({ set: ['metrics.prometheusRule.enabled=true'], apiVersions: MONITORING }),
    );
    const groups = rulesFromChart(objects);
    expect(groups).toEqual(source);
    expect((await promtoolCheck(groups)).code).toBe(0);
  });

  it('drops, delays, labels and moves the runbook of alerts as the values say', async () => {
    const objects = objectsOf(
      await renderChart({
        apiVersions: MONITORING,
        set: [
          'metrics.prometheusRule.enabled=true',
          'metrics.prometheusRule.disabledAlerts={MfaOperatorMultipleLeaders}',
          'metrics.prometheusRule.forOverrides.MfaOperatorAccountWithoutMfa=4h',
          'metrics.prometheusRule.alertLabels.team=security',
          'metrics.prometheusRule.runbookBaseURL=https://runbooks.example/mfa',
        ],
      }),
    );
    const rules = alertsOf(rulesFromChart(objects));
    expect(rules.map((r) => r.alert)).toEqual(
      alertsOf(source)
        .map((r) => r.alert)
        .filter((a) => a !== 'MfaOperatorMultipleLeaders'),
    );
    expect(rules.find((r) => r.alert === 'MfaOperatorAccountWithoutMfa')!.for).toBe('4h');
    expect(rules.find((r) => r.alert === 'MfaOperatorDown')!.for).toBe('10m');
    for (const rule of rules) {
      expect(rule.labels.team).toBe('security');
      expect(rule.labels.severity).toMatch(/warning|critical/);
      expect(rule.annotations.runbook_url).toBe(`https://runbooks.example/mfa#${rule.alert.toLowerCase()}`);
    }
    expect((await promtoolCheck(rulesFromChart(objects))).code).toBe(0);
  });

  it('is skipped, like the ServiceMonitor, when the cluster does not serve monitoring.coreos.com/v1', async () => {
    const objects = objectsOf(
      await renderChart({ set: ['metrics.prometheusRule.enabled=true', 'metrics.serviceMonitor.enabled=true'] }),
    );
    expect(objects.filter((o) => o.apiVersion.startsWith('monitoring.coreos.com/'))).toEqual([]);
  });
});

/** Metric names as the operator's source declares them (prom-client `name: '...'`). */
async function operatorMetricNames(): Promise<Set<string>> {
  const sources = await Promise.all(
    ['operator/metrics/metrics.ts', 'operator/codes/code-metrics.ts'].map((f) => readFile(`${REPO}/${f}`, 'utf8')),
  );
  return new Set(sources.flatMap((text) => [...text.matchAll(/name: '(mfa_operator_\w+)'/g)].map(([, name]) => name!)));
}

describe('the chart Grafana dashboard', () => {
  it("renders as a sidecar ConfigMap whose queries are valid PromQL over the operator's metrics", async () => {
    const objects = objectsOf(await renderChart({ set: ['metrics.grafanaDashboard.enabled=true'] }));
    const configMap = named(objects, 'ConfigMap', 'mfa-operator-dashboard');
    expect(configMap.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    const dashboard = JSON.parse((configMap.data as Record<string, string>)['mfa-operator.json']!) as {
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    };
    const queries = dashboard.panels.flatMap((p) =>
      p.targets.map((t, i) => ({ record: `dashboard:${p.title.replace(/\W+/g, '_')}:${i}`, expr: t.expr })),
    );
    expect(queries.length).toBeGreaterThan(5);
    const defined = await operatorMetricNames();
    for (const { expr } of queries) {
      for (const [used] of expr.matchAll(/\bmfa_operator_\w+/g)) {
        const known =
          defined.has(used.replace(/_(bucket|sum|count)$/, '')) || /^mfa_operator_(process|nodejs)_/.test(used);
        expect(known, `${used} in ${expr} is a metric the operator defines`).toBe(true);
      }
    }
    // Each query as a recording rule: promtool parses the PromQL.
    const checked = await promtoolCheck([{ name: 'dashboard', rules: queries } as unknown as RuleGroup]);
    expect(checked.code, checked.stderr + checked.stdout).toBe(0);
  });
});
