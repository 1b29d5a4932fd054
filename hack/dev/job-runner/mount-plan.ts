import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { posix } from 'node:path';
import { JobRunnerError } from './errors.ts';

/** One bind mount inside the pod's mount namespace: `source` is relative to the pod's host directory. */
export interface PlannedMount {
  kind: 'dir' | 'file';
  source: string;
  target: string;
  readOnly: boolean;
}

/** The container paths the sandbox itself provides: a private tmpfs on /run (so /var/run too, on Debian). */
export const PRIVATE_RUN = '/run';

/** Where a container finds the image root (--image-root): the private /run, which no volume can cover. */
export const IMAGE_ROOT_IN_POD = '/run/.local-job-runner-image';
/** The host's own: never covered. Inside /dev only existing paths (such as /dev/shm) can be mounted over. */
const HOST_ROOTS = ['/', PRIVATE_RUN, '/dev', '/proc', '/sys'];
const HOST_TREES = ['/proc', '/sys'];

function isUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
}

/**
 * Where a container path lands once symlinks on this machine are followed (`/var/run/x` is `/run/x` on
 * Debian). Resolution stops inside /run, whose contents the sandbox replaces with an empty tmpfs.
 */
export function effectivePath(containerPath: string, hops = 0): string {
  let resolved = '/';
  const parts = posix.normalize(containerPath).split('/').filter(Boolean);
  for (let i = 0; i < parts.length; i++) {
    if (isUnder(resolved, PRIVATE_RUN)) return posix.join(resolved, ...parts.slice(i));
    const next = posix.join(resolved, parts[i]!);
    if (!existsSync(next)) return posix.join(next, ...parts.slice(i + 1));
    if (lstatSync(next).isSymbolicLink() && hops < 40) {
      return effectivePath(posix.join(posix.resolve(resolved, readlinkSync(next)), ...parts.slice(i + 1)), hops + 1);
    }
    resolved = next;
  }
  return resolved;
}

/**
 * Orders the mounts parents first (as container runtimes do) and checks each target can be made without
 * touching this machine's own file system: it exists, or lies in /run, in another mount, or in `hiddenDir`.
 */
export function orderMounts(mounts: readonly PlannedMount[], hiddenDir: string): PlannedMount[] {
  const resolved = mounts.map((m) => ({ ...m, target: effectivePath(m.target) }));
  const depth = (p: string) => p.split('/').filter(Boolean).length;
  resolved.sort((a, b) => depth(a.target) - depth(b.target));
  resolved.forEach((mount, index) => {
    if (HOST_ROOTS.includes(mount.target) || HOST_TREES.some((dir) => isUnder(mount.target, dir))) {
      throw new JobRunnerError('StartError', `mount path ${mount.target} cannot be mounted by the local job runner (/, /run, /dev, /proc and /sys are the host's)`);
    }
    const parents = [PRIVATE_RUN, hiddenDir, ...resolved.slice(0, index).filter((m) => m.kind === 'dir').map((m) => m.target)];
    const creatable = existsSync(mount.target) || parents.some((dir) => isUnder(mount.target, dir) && mount.target !== dir);
    if (!creatable) {
      throw new JobRunnerError('StartError', `mount path ${mount.target} does not exist on this machine and is not inside /run or another volume; the local job runner does not create directories on the host`);
    }
  });
  return resolved;
}

/** Whether a container path lies inside a mounted volume or /run, where the sandbox can put a file. */
export function isInsideMounts(containerPath: string, mounts: readonly PlannedMount[]): boolean {
  const target = effectivePath(containerPath);
  const dirs = [PRIVATE_RUN, ...mounts.filter((m) => m.kind === 'dir').map((m) => effectivePath(m.target))];
  return dirs.some((dir) => isUnder(posix.dirname(target), dir));
}

/**
 * Runs as pid 1 of the pod's namespaces, then execs the container's command. It stages the pod's host
 * directory under the fresh /run, binds the image root there too, hides every pod's host directory behind a
 * tmpfs, bind-mounts each volume onto its container path (read-only where asked), drops the staging mount
 * and changes to the working dir (the image root's binding when the container names none of its own).
 */
const PRELUDE = `set -eu
stage=/run/.local-job-runner
image=${IMAGE_ROOT_IN_POD}
pod_dir=$1 hidden=$2 host=$3 workdir=$4
shift 4
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p "$stage"
mount --bind "$pod_dir" "$stage"
# The image root (this shell's cwd) is reached through the private /run from here on: a volume mounted
# over one of its ancestors (an emptyDir on /tmp over a checkout in /tmp) must not hide it.
mkdir -p "$image"
mount --bind "$PWD" "$image"
mount -t tmpfs -o mode=0755 tmpfs "$hidden"
hostname "$host" 2>/dev/null || true
while [ "$1" != "--" ]; do
  kind=$1 src=$2 dst=$3 access=$4
  shift 4
  if [ "$kind" = file ]; then
    mkdir -p "$(dirname "$dst")"
    [ -e "$dst" ] || : > "$dst"
  else
    mkdir -p "$dst"
  fi
  mount --bind "$stage/$src" "$dst"
  if [ "$access" = ro ]; then mount -o remount,bind,ro "$dst"; fi
done
shift
umount -l "$stage"
rmdir "$stage"
if [ -n "$workdir" ]; then cd "$workdir"; else cd "$image"; fi
exec "$@"
`;

export interface SandboxLayout {
  podDir: string;
  hiddenDir: string;
  hostname: string;
  /** A container working directory to change to after the mounts; empty keeps the spawn cwd (the image root). */
  workdir: string;
  mounts: readonly PlannedMount[];
}

/** `sh -c PRELUDE ...` arguments that set up the layout and then exec argv. */
export function preludeArgv(layout: SandboxLayout, argv: readonly string[]): string[] {
  const mounts = layout.mounts.flatMap((m) => [m.kind, m.source, m.target, m.readOnly ? 'ro' : 'rw']);
  return ['/bin/sh', '-c', PRELUDE, 'local-job-runner', layout.podDir, layout.hiddenDir, layout.hostname, layout.workdir, ...mounts, '--', ...argv];
}
