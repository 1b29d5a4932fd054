import { readdir } from 'node:fs/promises';
import { cgroupsUnder } from './cgroups.ts';
import { CGROUP_ROOT } from './components.ts';
import { host } from './host-command.ts';
import { nftTables } from './iptables.ts';
import { mountsUnder } from './mounts.ts';
import { readSysctls } from './sysctls.ts';

const NODE_PROGRAMS =
  /(^|\/)(kubelet|kube-proxy|kube-controller-manager|kube-scheduler|containerd|containerd-shim-runc-v2)$/;

/** Everything of the host a node touches, in a form two snapshots can be compared by. */
export async function hostSnapshot(workDirPrefix = '/tmp/mfa-cluster-') {
  const processes: string[] = [];
  for (const pid of (await readdir('/proc')).filter((n) => /^\d+$/.test(n))) {
    const exe = await host('readlink', [`/proc/${pid}/exe`], { allowFailure: true });
    if (NODE_PROGRAMS.test(exe.stdout.trim())) processes.push(exe.stdout.trim());
  }
  const iptables = (save: string) =>
    host(save, [], { allowFailure: true }).then((r) =>
      r.stdout
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => l.replace(/\[\d+:\d+\]/, '')),
    );
  const workDirs = (await readdir('/tmp')).filter((n) => `/tmp/${n}`.startsWith(workDirPrefix));
  return {
    links: JSON.parse((await host('ip', ['-j', 'link', 'show'])).stdout)
      .map((l: { ifname: string }) => l.ifname)
      .sort() as string[],
    routes: (await host('ip', ['route', 'show', 'table', 'all'])).stdout.split('\n').filter(Boolean).sort(),
    iptables: await iptables('iptables-save'),
    ip6tables: await iptables('ip6tables-save'),
    nftTables: await nftTables(),
    sysctls: await readSysctls(),
    cgroups: await cgroupsUnder(CGROUP_ROOT),
    mounts: await mountsUnder(workDirs.map((n) => `/tmp/${n}`)),
    workDirs,
    hostDirs: await Promise.all(
      ['/run/containerd', '/var/lib/cni', '/run/mfa-operator-cluster'].map((d) =>
        readdir(d).then(
          () => d,
          () => `no ${d}`,
        ),
      ),
    ),
    processes: processes.sort(),
  };
}
