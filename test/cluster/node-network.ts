import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { host } from './host-command.ts';
import { NETWORK } from './network-plan.ts';

interface Link {
  ifname: string;
  linkinfo?: { info_kind?: string };
}

async function links(): Promise<Link[]> {
  const out = await host('ip', ['-j', '-d', 'link', 'show']);
  return JSON.parse(out.stdout || '[]') as Link[];
}

/**
 * The node's address on a link of its own (a bridge with no ports: this kernel may lack the
 * dummy module), a route for the Service range on it, and an `unreachable` route for the whole confined range:
 * the more specific routes (the node's address, the pods' bridge) win, everything else in the
 * range is refused here instead of following the default route off the machine.
 */
export async function createNodeNetwork(): Promise<void> {
  await host('ip', ['link', 'add', NETWORK.nodeLink, 'type', 'bridge']);
  await host('ip', ['addr', 'add', `${NETWORK.nodeAddress}/32`, 'dev', NETWORK.nodeLink]);
  await host('ip', ['link', 'set', NETWORK.nodeLink, 'up']);
  await host('ip', ['route', 'add', 'unreachable', NETWORK.confinedRange]);
  // This host reaches Services as a node does: kube-proxy's OUTPUT rules rewrite the ClusterIP to a pod's address
  // once a route has picked a source; the route goes when the link does.
  await host('ip', ['route', 'add', NETWORK.serviceRange, 'dev', NETWORK.nodeLink, 'src', NETWORK.nodeAddress]);
}

/** The bridge CNI plugin's configuration: pods get an address, a route to the range and no default route. */
export async function writeCniConfig(confDir: string, ipamDir: string): Promise<void> {
  await mkdir(confDir, { recursive: true });
  const config = {
    cniVersion: '1.0.0',
    name: NETWORK.cniNetworkName,
    plugins: [
      {
        type: 'bridge',
        bridge: NETWORK.bridge,
        isGateway: true,
        isDefaultGateway: false,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          dataDir: ipamDir,
          ranges: [[{ subnet: NETWORK.podSubnet, gateway: NETWORK.podGateway }]],
          routes: [{ dst: NETWORK.confinedRange }],
        },
      },
    ],
  };
  await writeFile(join(confDir, `10-${NETWORK.cniNetworkName}.conflist`), JSON.stringify(config, null, 2));
}

/** What of the node's network is still on the host: links, the unreachable route, veths on the bridge. */
export async function nodeNetworkLeft(): Promise<string[]> {
  const left = (await links())
    .filter((l) => l.ifname === NETWORK.nodeLink || l.ifname === NETWORK.bridge)
    .map((l) => `link ${l.ifname}`);
  const routes = await host('ip', ['route', 'show', 'type', 'unreachable']);
  if (routes.stdout.includes(NETWORK.confinedRange)) left.push(`route unreachable ${NETWORK.confinedRange}`);
  const enslaved = await host('ip', ['-j', 'link', 'show', 'master', NETWORK.bridge], { allowFailure: true });
  for (const link of JSON.parse(enslaved.stdout || '[]') as Link[]) left.push(`veth ${link.ifname}`);
  return left;
}

/** Deletes the pods' veths and bridge, the node's link (and with it its address) and the route. */
export async function removeNodeNetwork(): Promise<void> {
  const enslaved = await host('ip', ['-j', 'link', 'show', 'master', NETWORK.bridge], { allowFailure: true });
  for (const link of JSON.parse(enslaved.stdout || '[]') as Link[])
    await host('ip', ['link', 'del', link.ifname], { allowFailure: true });
  for (const name of [NETWORK.bridge, NETWORK.nodeLink])
    await host('ip', ['link', 'del', name], { allowFailure: true });
  await host('ip', ['route', 'del', 'unreachable', NETWORK.confinedRange], { allowFailure: true });
}
