import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { removeCgroupTree } from './cgroups.ts';
import { CGROUP_ROOT } from './components.ts';
import { killShimsOf } from './containerd.ts';
import type { HostState } from './host-claim.ts';
import { removeNodeIptablesRules, removeTablesCreatedSince } from './iptables.ts';
import { unmountUnder } from './mounts.ts';
import { NETWORK } from './network-plan.ts';
import { removeNodeNetwork } from './node-network.ts';
import { restoreSysctls } from './sysctls.ts';

/** Where libcni caches each attachment's result, outside any directory of ours. */
const CNI_RESULTS = '/var/lib/cni/results';

/**
 * Puts the host back after a node, its processes already stopped or dead: shims, the pods'
 * cgroups and mounts, iptables chains, links and routes, sysctls, files outside the cluster's
 * directory. Also what a later start runs for a cluster whose process died without teardown.
 */
export async function cleanHost(state: HostState): Promise<void> {
  await killShimsOf(state.containerdSocket);
  await removeCgroupTree(CGROUP_ROOT);
  await unmountUnder([state.workDir]);
  await removeNodeIptablesRules();
  await removeTablesCreatedSince(state.nftTables ?? []);
  await removeNodeNetwork();
  const unrestored = await restoreSysctls(state.sysctls);
  if (unrestored.length > 0) throw new Error(`could not restore sysctls ${unrestored.join(', ')}`);
  const results = await readdir(CNI_RESULTS).catch(() => [] as string[]);
  for (const name of results.filter((n) => n.startsWith(`${NETWORK.cniNetworkName}-`)))
    await rm(join(CNI_RESULTS, name), { force: true });
  for (const dir of state.createdDirs) await rm(dir, { recursive: true, force: true });
  await rm(state.workDir, { recursive: true, force: true });
}
