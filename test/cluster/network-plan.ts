/**
 * Every address the local cluster uses lies in 198.18.0.0/15 (RFC 2544 benchmarking, never
 * routed on the internet). The node's address sits on a link of its own; the pods' bridge carries
 * their subnet; the rest of the /15 is an `unreachable` route, so nothing for it leaves this
 * machine. Pods get a route to the /15 and no default route.
 */
export const NETWORK = {
  confinedRange: '198.18.0.0/15',
  nodeLink: 'mfa-node0',
  nodeAddress: '198.18.0.1',
  bridge: 'mfa-cni0',
  podSubnet: '198.18.64.0/24',
  podGateway: '198.18.64.1',
  serviceRange: '198.18.128.0/24',
  /** The `kubernetes` Service's ClusterIP: the first address of serviceRange. */
  kubernetesServiceAddress: '198.18.128.1',
  /** In no range above: the confinement test expects a connect to it to be refused. */
  unusedAddress: '198.19.200.1',
  cniNetworkName: 'mfa-pods',
} as const;

export const NODE_NAME = 'mfa-node';
