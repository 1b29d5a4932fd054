import { execFile } from 'node:child_process';
import { cp as copy, mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO } from '../support/cluster.ts';

/** A generator under hack/ as `make generate` / `make verify` run it, in `root` (the repository or a copy of it). */
export async function runGenerator(
  root: string,
  script: string,
  ...args: string[]
): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(root, script), ...args]);
    return { code: 0, output: stdout + stderr };
  } catch (e: unknown) {
    const failed = e as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

/** A throwaway copy of `paths` of the repository, with its node_modules, for a generator to read and write. */
export async function generatorTree(paths: readonly string[]): Promise<string> {
  const tree = await mkdtemp(join(tmpdir(), 'mfa-generate-'));
  for (const path of paths) await copy(join(REPO, path), join(tree, path), { recursive: true });
  await symlink(join(REPO, 'node_modules'), join(tree, 'node_modules'));
  return tree;
}
