import { execFile } from 'node:child_process';
import { cp as copy, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPO } from '../support/cluster.ts';

let tree: string;

/** The generator as `make generate` / `make verify` run it, in a throwaway copy of what it reads and writes. */
async function generator(root: string, ...args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(root, 'hack/generate-api-types.mjs'), ...args]);
    return { code: 0, output: stdout + stderr };
  } catch (e: unknown) {
    const failed = e as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

beforeEach(async () => {
  tree = await mkdtemp(join(tmpdir(), 'mfa-generate-api-'));
  for (const path of ['hack/generate-api-types.mjs', 'crds', 'config/crd', 'operator/api/v1alpha1']) await copy(join(REPO, path), join(tree, path), { recursive: true });
  await symlink(join(REPO, 'node_modules'), join(tree, 'node_modules'));
});
afterEach(async () => {
  await rm(tree, { recursive: true, force: true });
});

describe('hack/generate-api-types.mjs', () => {
  it('finds the committed types and CRDs in step with crds/, which holds the two sources only', async () => {
    const result = await generator(REPO, '--check');
    expect(result.code, result.output).toBe(0);
    expect((await readdir(join(REPO, 'crds'))).sort()).toEqual(['mfa-operator.io_managedaccountmfas.yaml', 'mfa-operator.io_mfasecretstores.yaml']);
    expect((await readdir(join(REPO, 'config/crd/bases'))).sort()).toEqual([
      'mfa-operator.io_clustermfasecretstores.yaml', 'mfa-operator.io_managedaccountmfas.yaml', 'mfa-operator.io_mfasecretstores.yaml',
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

  it('refuses a file in crds/ that it did not generate, rather than deleting someone\'s work', async () => {
    await writeFile(join(tree, 'crds/mfa-operator.io_drafts.yaml'), 'apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n');

    const result = await generator(tree);
    expect(result.code).toBe(1);
    expect(result.output).toContain('crds/mfa-operator.io_drafts.yaml is not a source CRD');
    expect(await readFile(join(tree, 'crds/mfa-operator.io_drafts.yaml'), 'utf8')).toContain('CustomResourceDefinition');
  });

  it('fails --check when a source CRD changes, naming each derived file', async () => {
    const source = join(tree, 'crds/mfa-operator.io_mfasecretstores.yaml');
    await writeFile(source, (await readFile(source, 'utf8')).replace('description: Exactly one provider.', 'description: Exactly one provider, please.'));

    const check = await generator(tree, '--check');
    expect(check.code).toBe(1);
    expect(check.output).toContain('config/crd/bases/mfa-operator.io_mfasecretstores.yaml is out of date');
    expect(check.output).toContain('config/crd/bases/mfa-operator.io_clustermfasecretstores.yaml is out of date');
  });
});
