import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { trackDirectory, untrackDirectory } from '../../../test/envtest/cleanup.ts';

const PREFIX = 'mfa-job-runner-';
const OWNER_FILE = 'runner.pid';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err: unknown) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes what runners killed with SIGKILL left behind (pods' volume files may hold Secret data). */
async function sweepAbandoned(parent: string): Promise<void> {
  for (const entry of await readdir(parent).catch(() => [] as string[])) {
    if (!entry.startsWith(PREFIX)) continue;
    const owner = Number(await readFile(join(parent, entry, OWNER_FILE), 'utf8').catch(() => ''));
    if (owner > 0 && !isAlive(owner)) await rm(join(parent, entry), { recursive: true, force: true });
  }
}

/**
 * The runner's private directory: pods' volumes and (by default) logs. It is removed by release(), on exit or a
 * terminating signal, and, after a SIGKILL, by the next runner that starts.
 */
export async function createWorkDir(parent: string): Promise<{ path: string; release(): Promise<void> }> {
  await mkdir(parent, { recursive: true });
  await sweepAbandoned(parent);
  const path = await mkdtemp(join(parent, PREFIX));
  trackDirectory(path);
  await writeFile(join(path, OWNER_FILE), String(process.pid));
  return {
    path,
    async release() {
      await rm(path, { recursive: true, force: true });
      untrackDirectory(path);
    },
  };
}
