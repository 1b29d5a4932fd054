import { describe, expect, it } from 'vitest';
import { withoutNodeChains } from './iptables.ts';

const DUMP = `*nat
:PREROUTING ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:CNI-HOSTPORT-DNAT - [0:0]
:DOCKER - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A PREROUTING -j DOCKER
-A POSTROUTING -s 192.0.2.0/24 -j MASQUERADE
-A KUBE-SERVICES -d 198.18.128.1/32 -j KUBE-SVC-NPX46M4PTMTKRN6Y
-A CNI-HOSTPORT-DNAT -j RETURN
COMMIT`;

describe('withoutNodeChains', () => {
  it("drops the node's chains and every rule in or into them, and keeps everyone else's", () => {
    expect(withoutNodeChains(DUMP)).toBe(`*nat
:PREROUTING ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -j DOCKER
-A POSTROUTING -s 192.0.2.0/24 -j MASQUERADE
COMMIT`);
  });

  it('leaves a table without node chains alone', () => {
    expect(withoutNodeChains('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT')).toBeUndefined();
  });
});
