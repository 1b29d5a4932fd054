import { access, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { ClusterError } from './errors.ts';
import { nftTables } from './iptables.ts';
import { readSysctls, type SysctlValues } from './sysctls.ts';

/** One local cluster per machine: kube-proxy's KUBE-* chains, the links and sysctls are host-wide. */
const CLAIM_DIR = '/run/mfa-operator-cluster';
const STATE_FILE = `${CLAIM_DIR}/host-state.json`;

/** What teardown needs to put the host back, kept on disk so a later start can clean up after a crash. */
export interface HostState {
  pid: number;
  workDir: string;
  containerdSocket: string;
  sysctls: SysctlValues;
  /** Host directories that a node writes into and that did not exist before it started. */
  createdDirs: string[];
  /** The nftables tables that existed before (iptables-nft creates its own on first use). */
  nftTables: string[];
}

/** Directories containerd and the CNI plugins write outside the cluster's own directory. */
const HOST_DIRS = ['/run/containerd', '/var/lib/cni'];

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function readState(): Promise<HostState | undefined> {
  try {
    return JSON.parse(await readFile(STATE_FILE, 'utf8')) as HostState;
  } catch {
    return undefined;
  }
}

async function tryClaim(): Promise<boolean> {
  try {
    await mkdir(CLAIM_DIR, { mode: 0o700 });
    return true;
  } catch (e: unknown) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/** A live other process holds it, or a claim is being made right now (its state file not yet written). */
async function heldByAnother(holder: HostState | undefined): Promise<boolean> {
  if (holder) return holder.pid !== process.pid && alive(holder.pid);
  const age =
    Date.now() -
    (await stat(CLAIM_DIR).then(
      (s) => s.mtimeMs,
      () => 0,
    ));
  return age < 10_000;
}

/**
 * Claims the host for one cluster, waiting while another live process holds it. A claim whose
 * process died is handed to `recover` (with the state it saved) before it is taken over.
 */
export async function claimHost(
  workDir: string,
  containerdSocket: string,
  waitMs: number,
  recover: (stale: HostState) => Promise<void>,
): Promise<HostState> {
  const deadline = Date.now() + waitMs;
  while (!(await tryClaim())) {
    const holder = await readState();
    if (await heldByAnother(holder)) {
      if (Date.now() > deadline) {
        throw new ClusterError(
          'ClusterBusy',
          `another local cluster (pid ${holder?.pid ?? 'unknown'}) holds this machine; it allows one at a time (${CLAIM_DIR})`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      continue;
    }
    if (holder) await recover(holder);
    await rm(CLAIM_DIR, { recursive: true, force: true });
  }
  const createdDirs: string[] = [];
  for (const dir of HOST_DIRS) if (!(await exists(dir))) createdDirs.push(dir);
  const state: HostState = {
    pid: process.pid,
    workDir,
    containerdSocket,
    sysctls: await readSysctls(),
    createdDirs,
    nftTables: await nftTables(),
  };
  await writeFile(STATE_FILE, JSON.stringify(state));
  return state;
}

export async function releaseHost(): Promise<void> {
  await rm(CLAIM_DIR, { recursive: true, force: true });
}
