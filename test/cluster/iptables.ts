import { host } from './host-command.ts';

const TABLES = ['filter', 'nat', 'mangle', 'raw'] as const;
/** Chains kubelet (KUBE-KUBELET-CANARY, KUBE-FIREWALL ...), kube-proxy (KUBE-*) and CNI (CNI-*) make. */
const NODE_CHAIN = /^(KUBE|CNI)-/;

/**
 * A table's dump without the node's chains and without any rule in them or jumping to them;
 * undefined when there is nothing of the node's to remove.
 */
export function withoutNodeChains(dump: string): string | undefined {
  let changed = false;
  const kept = dump.split('\n').filter((line) => {
    const declared = /^:(\S+)/.exec(line)?.[1];
    const rule = /^-A (\S+)(?:.*\s-(?:j|g) (\S+))?/.exec(line);
    const drop =
      (declared !== undefined && NODE_CHAIN.test(declared)) ||
      (rule !== null && (NODE_CHAIN.test(rule[1]!) || (rule[2] !== undefined && NODE_CHAIN.test(rule[2]))));
    if (drop) changed = true;
    return !drop;
  });
  return changed ? kept.join('\n') : undefined;
}

/** The node's chains and the rules that reach them, for the teardown check. */
export async function nodeIptablesRules(): Promise<string[]> {
  const found: string[] = [];
  for (const save of ['iptables-save', 'ip6tables-save']) {
    const dump = await host(save, [], { allowFailure: true });
    for (const line of dump.stdout.split('\n'))
      if (/(^:|-A |-j |-g )(KUBE|CNI)-/.test(line)) found.push(`${save}: ${line}`);
  }
  return found;
}

/** Removes every chain of the node and every rule that jumps to one, IPv4 and IPv6, table by table. */
export async function removeNodeIptablesRules(): Promise<void> {
  for (const [save, restore] of [
    ['iptables-save', 'iptables-restore'],
    ['ip6tables-save', 'ip6tables-restore'],
  ] as const) {
    for (const table of TABLES) {
      const dump = await host(save, ['-t', table], { allowFailure: true });
      if (dump.code !== 0) continue;
      const cleaned = withoutNodeChains(dump.stdout);
      if (cleaned !== undefined) await host(restore, [], { input: cleaned });
    }
  }
}

/** nftables tables ("ip filter", "ip6 nat" ...) as `nft list tables` names them; empty without nft. */
export async function nftTables(): Promise<string[]> {
  const listing = await host('nft', ['list', 'tables'], { allowFailure: true });
  return listing.code === 0
    ? listing.stdout
        .split('\n')
        .filter((l) => l.startsWith('table '))
        .map((l) => l.slice('table '.length).trim())
    : [];
}

/**
 * iptables-nft makes its tables on first use and never removes them: each table that did not
 * exist before the node and holds no rule now is deleted.
 */
export async function removeTablesCreatedSince(before: readonly string[]): Promise<void> {
  for (const table of await nftTables()) {
    if (before.includes(table)) continue;
    const [family, name] = table.split(' ');
    const save = family === 'ip6' ? 'ip6tables-save' : 'iptables-save';
    const dump = await host(save, ['-t', name!], { allowFailure: true });
    if (!/^-A /m.test(dump.stdout)) await host('nft', ['delete', 'table', family!, name!], { allowFailure: true });
  }
}
