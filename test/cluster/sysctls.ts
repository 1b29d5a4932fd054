import { readFile, writeFile } from 'node:fs/promises';

/**
 * Host sysctls the node changes: kubelet sets the kernel and vm ones at start (its
 * protectKernelDefaults list), the bridge CNI plugin turns on ip_forward, kube-proxy may set
 * route_localnet and the conntrack limits. Each is read before start and written back on teardown.
 */
export const NODE_SYSCTLS = [
  'vm/overcommit_memory',
  'vm/panic_on_oom',
  'kernel/panic',
  'kernel/panic_on_oops',
  'kernel/keys/root_maxkeys',
  'kernel/keys/root_maxbytes',
  'net/ipv4/ip_forward',
  'net/ipv4/conf/all/route_localnet',
  'net/bridge/bridge-nf-call-iptables',
  'net/netfilter/nf_conntrack_max',
  'net/netfilter/nf_conntrack_tcp_timeout_established',
  'net/netfilter/nf_conntrack_tcp_timeout_close_wait',
] as const;

export type SysctlValues = Record<string, string>;

/** The current values; a sysctl this kernel lacks is left out. */
export async function readSysctls(names: readonly string[] = NODE_SYSCTLS): Promise<SysctlValues> {
  const values: SysctlValues = {};
  for (const name of names) {
    try {
      values[name] = (await readFile(`/proc/sys/${name}`, 'utf8')).trim();
    } catch {
      // Not on this kernel (e.g. br_netfilter not loaded): nothing to restore.
    }
  }
  return values;
}

/** Writes back every value that changed; returns the names it could not restore. */
export async function restoreSysctls(saved: SysctlValues): Promise<string[]> {
  const failed: string[] = [];
  const now = await readSysctls(Object.keys(saved));
  for (const [name, value] of Object.entries(saved)) {
    if (now[name] === value) continue;
    try {
      await writeFile(`/proc/sys/${name}`, `${value}\n`);
    } catch {
      failed.push(name);
    }
  }
  return failed;
}
