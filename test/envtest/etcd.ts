import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ManagedProcess } from './managed-process.ts';
import { freeLoopbackPort } from './ports.ts';
import { waitUntilServing } from './readiness.ts';

export interface RunningEtcd {
  process: ManagedProcess;
  /** The client URL kube-apiserver's --etcd-servers takes. */
  url: string;
}

/**
 * Starts a single-member etcd on loopback ports, with controller-runtime envtest's flags: the
 * data is throwaway, so fsync is off (--unsafe-no-fsync) for speed.
 */
export async function startEtcd(binary: string, workDir: string, timeoutMs: number): Promise<RunningEtcd> {
  const dataDir = join(workDir, 'etcd-data');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const [clientPort, peerPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
  const url = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const etcd = await ManagedProcess.start(
    'etcd',
    binary,
    [
      '--name=envtest',
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=envtest=${peerUrl}`,
      '--unsafe-no-fsync=true',
    ],
    join(workDir, 'etcd.log'),
  );
  try {
    await waitUntilServing(etcd, `${url}/health`, timeoutMs);
  } catch (e: unknown) {
    await etcd.stop();
    throw e;
  }
  return { process: etcd, url };
}
