import { mkdir, readdir, readFile, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ClusterError } from './errors.ts';

const CGROUP_MOUNT = '/sys/fs/cgroup';

/** Every mounted hierarchy (cgroup v1 controllers, the v2 unified one, name=systemd). */
async function hierarchies(): Promise<string[]> {
  const entries = await readdir(CGROUP_MOUNT, { withFileTypes: true }).catch(() => []);
  const dirs: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const dir = join(CGROUP_MOUNT, entry.name);
    const files = await readdir(dir).catch(() => [] as string[]);
    if (files.includes('cgroup.procs')) dirs.push(dir);
  }
  return dirs;
}

/** Makes the cgroup that kubelet's cgroupRoot names, in each hierarchy; fails clearly without cgroups. */
export async function createCgroupRoot(name: string): Promise<void> {
  const dirs = await hierarchies();
  if (!dirs.some((dir) => dir.endsWith('/memory') || dir.endsWith('/unified'))) {
    throw new ClusterError(
      'CgroupsUnavailable',
      `no writable cgroup hierarchies under ${CGROUP_MOUNT}: the node needs cgroups (v1 or v2) mounted read-write`,
    );
  }
  for (const dir of dirs) {
    try {
      await mkdir(join(dir, name), { recursive: true });
    } catch (e: unknown) {
      throw new ClusterError(
        'CgroupsUnavailable',
        `cannot create ${join(dir, name)}: the node needs writable cgroups`,
        { cause: e },
      );
    }
  }
}

/** The cgroup directories below NAME that still exist, deepest first. */
export async function cgroupsUnder(name: string): Promise<string[]> {
  const found: string[] = [];
  async function walk(dir: string): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) if (entry.isDirectory()) await walk(join(dir, entry.name));
    found.push(dir);
  }
  for (const hierarchy of await hierarchies()) {
    const root = join(hierarchy, name);
    if (
      await stat(root).then(
        () => true,
        () => false,
      )
    )
      await walk(root);
  }
  return found;
}

function killAll(procs: string): void {
  for (const pid of procs.split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** SIGKILLs every process left in the tree, then removes its cgroups bottom-up. */
export async function removeCgroupTree(name: string): Promise<void> {
  for (let round = 0; round < 20; round++) {
    const dirs = await cgroupsUnder(name);
    if (dirs.length === 0) return;
    for (const dir of dirs) {
      killAll(await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => ''));
      await rmdir(dir).catch(() => undefined); // busy until its processes are reaped; the next round retries
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
