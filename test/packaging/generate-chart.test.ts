import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { REPO } from '../support/cluster.ts';
import { generatorTree, runGenerator } from './generator.ts';
import { objectsOf } from './manifests.ts';
import { grantedPermissions } from './rbac-rules.ts';
import { ensurePackagingTools, TOOLS_TIMEOUT_MS, runToolOk } from './tools.ts';

beforeAll(ensurePackagingTools, TOOLS_TIMEOUT_MS);

let tree: string;

const generator = (root: string, ...args: string[]) => runGenerator(root, 'hack/generate-chart.mjs', ...args);

beforeEach(async () => {
  tree = await generatorTree(['hack/generate-chart.mjs', 'config', 'charts']);
});
afterEach(async () => {
  await rm(tree, { recursive: true, force: true });
});

describe('hack/generate-chart.mjs', () => {
  it('finds the committed chart in step with config/ (what make verify runs)', async () => {
    const result = await generator(REPO, '--check');
    expect(result.code, result.output).toBe(0);
  });

  it('fails --check when config/rbac grows, and then carries the new rule into the rendered chart', async () => {
    const role = join(tree, 'config/rbac/role.yaml');
    await writeFile(
      role,
      `${await readFile(role, 'utf8')}  - apiGroups: [batch]\n    resources: [cronjobs]\n    verbs: [get, deletecollection]\n`,
    );
    const check = await generator(tree, '--check');
    expect(check.code).toBe(1);
    expect(check.output).toContain('charts/mfa-operator/templates/rbac.generated.yaml is out of date');

    expect((await generator(tree)).code).toBe(0);
    const rendered = objectsOf(
      await runToolOk('helm', [
        'template',
        'mfa-operator',
        join(tree, 'charts/mfa-operator'),
        '-n',
        'mfa-operator-system',
      ]),
    );
    expect(grantedPermissions(rendered)).toEqual(
      expect.arrayContaining(['ClusterRole mfa-operator-manager-role: get batch/cronjobs']),
    );
    const scoped = objectsOf(
      await runToolOk('helm', [
        'template',
        'mfa-operator',
        join(tree, 'charts/mfa-operator'),
        '-n',
        'mfa-operator-system',
        '--set',
        'watchNamespaces={team-a}',
      ]),
    );
    expect(grantedPermissions(scoped)).toEqual(
      expect.arrayContaining(['ClusterRole mfa-operator-manager-role-namespaced: deletecollection batch/cronjobs']),
    );
    expect(
      grantedPermissions(scoped).filter((p) => p.startsWith('ClusterRole mfa-operator-manager-role:')),
    ).not.toContainEqual(expect.stringContaining('batch/cronjobs'));
  });

  it('fails --check when a CRD or an alert changes', async () => {
    const alerts = join(tree, 'config/prometheus/alert-rules.yaml');
    await writeFile(alerts, (await readFile(alerts, 'utf8')).replace('for: 1h', 'for: 2h'));
    const crd = join(tree, 'config/crd/bases/mfa-operator.io_managedaccountmfas.yaml');
    await writeFile(crd, (await readFile(crd, 'utf8')).replace('shortNames:\n', 'shortNames:\n      - macc\n'));
    const check = await generator(tree, '--check');
    expect(check.code).toBe(1);
    expect(check.output).toContain('config/prometheus/prometheus_rule.yaml is out of date');
    expect(check.output).toContain('charts/mfa-operator/files/alert-rules.yaml is out of date');
    expect(check.output).toContain(
      'charts/mfa-operator/templates/crds/mfa-operator.io_managedaccountmfas.yaml is out of date',
    );
  });

  it('refuses a permission whose scope it does not know, rather than binding it wrongly', async () => {
    const role = join(tree, 'config/rbac/role.yaml');
    await writeFile(
      role,
      `${await readFile(role, 'utf8')}  - apiGroups: [example.com]\n    resources: [widgets]\n    verbs: [get]\n`,
    );
    const result = await generator(tree);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain(
      'config/rbac grants "widgets" (group "example.com"), whose scope hack/generate-chart.mjs does not know',
    );
  });

  it('refuses a config/rbac file that is neither listed nor optional', async () => {
    await writeFile(
      join(tree, 'config/rbac/extra_role.yaml'),
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: mfa-operator-extra\nrules: []\n',
    );
    const result = await generator(tree);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain(
      'config/rbac/extra_role.yaml is neither in config/rbac/kustomization.yaml nor in OPTIONAL_FILES',
    );
  });
});
