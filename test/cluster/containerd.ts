import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ManagedProcess } from '../envtest/managed-process.ts';
import type { NodeBinaries } from './binaries.ts';
import { ClusterError } from './errors.ts';
import { host } from './host-command.ts';

/** The sandbox image's name in build-node.sh's archive; containerd pins it and never pulls it. */
export const PAUSE_IMAGE = 'localhost/mfa-operator/pause:3.10.2';
const NAMESPACE = 'k8s.io';

export interface ContainerdPaths {
  /** Content and snapshots; kept in the cache between clusters, so a loaded image stays loaded. */
  root: string;
  /** Sockets, task bundles and network namespaces of this cluster. */
  state: string;
  socket: string;
  cniConfDir: string;
}

function config(binaries: NodeBinaries, paths: ContainerdPaths): string {
  const cri = 'plugins."io.containerd.cri.v1.runtime"';
  return `version = 3
root = "${paths.root}"
state = "${paths.state}"
disabled_plugins = ["io.containerd.nri.v1.nri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.blockfile", "io.containerd.snapshotter.v1.erofs", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "${paths.socket}"
[ttrpc]
  address = "${paths.socket}.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "${join(paths.root, 'opt')}"
[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "${PAUSE_IMAGE}"
[${cri}]
  # Root here lacks CAP_SYS_RESOURCE: containers may not get a lower OOM score than containerd.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  enable_cdi = false
  [${cri}.cni]
    bin_dirs = ["${binaries.cniPlugins}"]
    conf_dir = "${paths.cniConfDir}"
    max_conf_num = 1
  [${cri}.containerd]
    default_runtime_name = "runc"
    [${cri}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      runtime_path = "${binaries.containerdShim}"
      [${cri}.containerd.runtimes.runc.options]
        BinaryName = "${binaries.runc}"
        SystemdCgroup = false
`;
}

export class Containerd {
  readonly process: ManagedProcess;
  readonly socket: string;
  readonly #ctr: string;

  private constructor(process: ManagedProcess, socket: string, ctr: string) {
    this.process = process;
    this.socket = socket;
    this.#ctr = ctr;
  }

  static async start(
    binaries: NodeBinaries,
    paths: ContainerdPaths,
    logDir: string,
    timeoutMs: number,
  ): Promise<Containerd> {
    await mkdir(paths.root, { recursive: true, mode: 0o700 });
    await mkdir(paths.state, { recursive: true, mode: 0o700 });
    const configPath = join(logDir, 'containerd.toml');
    await writeFile(configPath, config(binaries, paths));
    const process = await ManagedProcess.start(
      'containerd',
      binaries.containerd,
      ['--config', configPath],
      join(logDir, 'containerd.log'),
    );
    const containerd = new Containerd(process, paths.socket, binaries.ctr);
    const deadline = Date.now() + timeoutMs;
    while ((await containerd.ctr(['version'], { allowFailure: true })).code !== 0) {
      if (process.exit)
        throw new ClusterError(
          'NodeNotReady',
          `containerd exited (${JSON.stringify(process.exit)}):\n${process.tail()}`,
        );
      if (Date.now() > deadline) {
        await process.stop();
        throw new ClusterError('NodeNotReady', `containerd did not answer within ${timeoutMs} ms:\n${process.tail()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return containerd;
  }

  ctr(args: readonly string[], options: { allowFailure?: boolean; timeoutMs?: number } = {}) {
    return host(this.#ctr, ['--address', this.socket, '--namespace', NAMESPACE, ...args], options);
  }

  async hasImage(name: string, label?: string): Promise<boolean> {
    const listing = await this.ctr(['images', 'ls', `name==${name}`]);
    return listing.stdout.includes(name) && (label === undefined || listing.stdout.includes(label));
  }

  /** Imports an image archive (OCI or docker) unless the image is there with the label already. */
  async importArchive(archive: string, name: string, label?: string): Promise<boolean> {
    if (await this.hasImage(name, label)) return false;
    const imported = await this.ctr(['images', 'import', archive], { allowFailure: true, timeoutMs: 10 * 60_000 });
    if (imported.code !== 0 || !(await this.hasImage(name))) {
      throw new ClusterError(
        'ImageLoadFailed',
        `ctr images import ${archive} did not give ${name}: ${imported.stderr.trim().slice(-1000)}`,
      );
    }
    if (label) await this.ctr(['images', 'label', name, label]);
    return true;
  }

  /** Kills every task and removes every container and sandbox, for a teardown that leaves nothing. */
  async removeEverything(): Promise<void> {
    const tasks = await this.ctr(['tasks', 'ls', '-q'], { allowFailure: true });
    for (const id of tasks.stdout.split('\n').filter(Boolean)) {
      await this.ctr(['tasks', 'kill', '--signal', 'SIGKILL', id], { allowFailure: true });
      await this.ctr(['tasks', 'delete', '--force', id], { allowFailure: true });
    }
    const containers = await this.ctr(['containers', 'ls', '-q'], { allowFailure: true });
    for (const id of containers.stdout.split('\n').filter(Boolean))
      await this.ctr(['containers', 'rm', id], { allowFailure: true });
    const sandboxes = await this.ctr(['sandboxes', 'ls', '-q'], { allowFailure: true });
    for (const id of sandboxes.stdout.split('\n').filter(Boolean))
      await this.ctr(['sandboxes', 'rm', '--force', id], { allowFailure: true });
  }

  /** SIGKILLs the runc shims of this containerd: they leave its process group to outlive it. */
  async killShims(): Promise<number> {
    return killShimsOf(this.socket);
  }
}

/** Shims started by the containerd on SOCKET, found by their command line; returns how many. */
export async function killShimsOf(socket: string): Promise<number> {
  let killed = 0;
  for (const pid of (await readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (!argv[0]?.endsWith('containerd-shim-runc-v2') || !argv.includes(socket)) continue;
    try {
      process.kill(Number(pid), 'SIGKILL');
      killed++;
    } catch {
      // Exited meanwhile.
    }
  }
  return killed;
}
