import { cp as copy, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPO } from '../support/cluster.ts';
import { generatorTree, runGenerator } from './generator.ts';

let tree: string;

const generator = (root: string, ...args: string[]) => runGenerator(root, 'hack/generate-api-types.mjs', ...args);

beforeEach(async () => {
  tree = await generatorTree(['hack/generate-api-types.mjs', 'crds', 'config/crd', 'operator/api/v1alpha1']);
});
afterEach(async () => {
  await rm(tree, { recursive: true, force: true });
});

describe('hack/generate-api-types.mjs', () => {
  it('finds the committed types and CRDs in step with crds/, which holds the two sources only', async () => {
    const result = await generator(REPO, '--check');
    expect(result.code, result.output).toBe(0);
    expect((await readdir(join(REPO, 'crds'))).sort()).toEqual([
      'mfa-operator.io_managedaccountmfas.yaml',
      'mfa-operator.io_mfasecretstores.yaml',
    ]);
    expect((await readdir(join(REPO, 'config/crd/bases'))).sort()).toEqual([
      'mfa-operator.io_clustermfasecretstores.yaml',
      'mfa-operator.io_managedaccountmfas.yaml',
      'mfa-operator.io_mfasecretstores.yaml',
    ]);
  });

  it('keeps generated output out of crds/: --check fails on it, a generate removes it', async () => {
    const stray = join(tree, 'crds/mfa-operator.io_clustermfasecretstores.yaml');
    await copy(join(tree, 'config/crd/bases/mfa-operator.io_clustermfasecretstores.yaml'), stray);

    const check = await generator(tree, '--check');
    expect(check.code).toBe(1);
    expect(check.output).toContain('crds/mfa-operator.io_clustermfasecretstores.yaml is not a source CRD');

    expect((await generator(tree)).code).toBe(0);
    expect(await readdir(join(tree, 'crds'))).not.toContain('mfa-operator.io_clustermfasecretstores.yaml');
    expect((await generator(tree, '--check')).code).toBe(0);
  });

  it("refuses a file in crds/ that it did not generate, rather than deleting someone's work", async () => {
    await writeFile(
      join(tree, 'crds/mfa-operator.io_drafts.yaml'),
      'apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n',
    );

    const result = await generator(tree);
    expect(result.code).toBe(1);
    expect(result.output).toContain('crds/mfa-operator.io_drafts.yaml is not a source CRD');
    expect(await readFile(join(tree, 'crds/mfa-operator.io_drafts.yaml'), 'utf8')).toContain(
      'CustomResourceDefinition',
    );
  });

  it('fails --check when a source CRD changes, naming each derived file', async () => {
    const source = join(tree, 'crds/mfa-operator.io_mfasecretstores.yaml');
    await writeFile(
      source,
      (await readFile(source, 'utf8')).replace(
        'description: Exactly one provider.',
        'description: Exactly one provider, please.',
      ),
    );

    const check = await generator(tree, '--check');
    expect(check.code).toBe(1);
    expect(check.output).toContain('config/crd/bases/mfa-operator.io_mfasecretstores.yaml is out of date');
    expect(check.output).toContain('config/crd/bases/mfa-operator.io_clustermfasecretstores.yaml is out of date');
  });
});
