import { lookup as dnsLookup } from 'node:dns/promises';
import { isIPv4, isIPv6 } from 'node:net';

/**
 * Where the browser may connect. Every host is parsed the way the browser parses it (so
 * `2852039166`, `0xa9fea9fe`, `[::ffff:a9fe:a9fe]` and `169.254.169.254.` are all the metadata
 * address), must be on the allow-list, and must not resolve to an address a page must never reach.
 */

/** Why a destination was refused; one CamelCase word each, logged and reported. */
export type RefusalReason =
  | 'Unparseable'
  | 'NotAllowed'
  | 'MetadataAddress'
  | 'LinkLocalAddress'
  | 'UnspecifiedAddress'
  | 'LoopbackAddress'
  | 'Unresolvable';

export interface Refusal {
  readonly host: string;
  readonly reason: RefusalReason;
}

/** Names that resolve to a metadata service inside clouds; refused before any lookup. */
const METADATA_NAMES = new Set([
  'metadata.google.internal',
  'metadata.goog',
  'metadata',
  'instance-data',
  'instance-data.ec2.internal',
]);
/** AWS IPv6, Azure wire server, Alibaba; 169.254.169.254 (most clouds) is link-local anyway. */
const METADATA_ADDRESSES = new Set(['fd00:ec2:0:0:0:0:0:254', '168.63.129.16', '100.100.100.200']);

type AddressClass = 'unspecified' | 'loopback' | 'linkLocal' | 'metadata' | 'other';

/**
 * The host as the browser sees it: lower case, IPv4 in dotted decimal, IPv6 without brackets,
 * no trailing dot, no userinfo. Undefined when it is not a valid host at all.
 */
export function normalizeHost(raw: string): string | undefined {
  let host = raw.trim();
  host = host.slice(host.lastIndexOf('@') + 1);
  if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`;
  try {
    host = new URL(`http://${host}/`).hostname;
  } catch {
    return undefined;
  }
  host = host.replace(/\.+$/, '');
  if (host.startsWith('[')) host = host.slice(1, -1);
  return host === '' ? undefined : host;
}

/** `pattern` is a hostname or address, or `*.example.com` for any subdomain of example.com (not the apex). */
export function hostMatches(host: string, pattern: string): boolean {
  const normalized = normalizeHost(host);
  if (pattern.startsWith('*.')) {
    const suffix = normalizeHost(pattern.slice(2));
    return normalized !== undefined && suffix !== undefined && normalized.endsWith(`.${suffix}`);
  }
  return normalized !== undefined && normalized === normalizeHost(pattern);
}

/** Loopback is refused unless the allow-list itself names a loopback host (tests and local demos). */
export function allowsLoopback(allowedHosts: readonly string[]): boolean {
  return allowedHosts.some((pattern) => {
    const host = normalizeHost(pattern.replace(/^\*\./, ''));
    return (
      host !== undefined &&
      (host === 'localhost' || host.endsWith('.localhost') || classifyAddress(host) === 'loopback')
    );
  });
}

/**
 * The checks that need no DNS: the host parses, is on the allow-list, is no metadata name, and,
 * when it is an address literal, is not one a page must never reach.
 */
export function checkHost(rawHost: string, allowedHosts: readonly string[]): Refusal | undefined {
  const host = normalizeHost(rawHost);
  if (host === undefined) return { host: rawHost.slice(0, 100), reason: 'Unparseable' };
  if (METADATA_NAMES.has(host)) return { host, reason: 'MetadataAddress' };
  const literal = refuseAddress(host, allowsLoopback(allowedHosts));
  if (literal) return { host, reason: literal };
  if (!allowedHosts.some((pattern) => hostMatches(host, pattern))) return { host, reason: 'NotAllowed' };
  return undefined;
}

export type Lookup = (hostname: string) => Promise<readonly string[]>;

const systemLookup: Lookup = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

/**
 * `checkHost`, then every address the name resolves to. The caller connects to one of the
 * returned addresses, never to the name again, so a second answer (DNS rebinding) cannot differ.
 */
export async function resolveDestination(
  rawHost: string,
  allowedHosts: readonly string[],
  lookup: Lookup = systemLookup,
): Promise<{ addresses: readonly string[] } | { refusal: Refusal }> {
  const refusal = checkHost(rawHost, allowedHosts);
  if (refusal) return { refusal };
  const host = normalizeHost(rawHost) as string;
  if (isIPv4(host) || isIPv6(host)) return { addresses: [host] };
  let addresses: readonly string[];
  try {
    addresses = await lookup(host);
  } catch {
    return { refusal: { host, reason: 'Unresolvable' } };
  }
  if (addresses.length === 0) return { refusal: { host, reason: 'Unresolvable' } };
  const loopback = allowsLoopback(allowedHosts);
  for (const address of addresses) {
    const reason = refuseAddress(address, loopback);
    if (reason) return { refusal: { host, reason } };
  }
  return { addresses };
}

function refuseAddress(address: string, allowLoopback: boolean): RefusalReason | undefined {
  switch (classifyAddress(address)) {
    case 'metadata':
      return 'MetadataAddress';
    case 'linkLocal':
      return 'LinkLocalAddress';
    case 'unspecified':
      return 'UnspecifiedAddress';
    case 'loopback':
      return allowLoopback ? undefined : 'LoopbackAddress';
    default:
      return undefined;
  }
}

/** What kind of address this is; names (not addresses) are `other`. */
export function classifyAddress(address: string): AddressClass {
  if (isIPv4(address)) return classifyIPv4Full(address.split('.').map(Number));
  const bytes = ipv6Bytes(address);
  return bytes ? classifyIPv6(bytes) : 'other';
}

function classifyIPv4([a, b]: number[]): AddressClass {
  return a === 0 ? 'unspecified' : a === 127 ? 'loopback' : a === 169 && b === 254 ? 'linkLocal' : 'other';
}

function classifyIPv4Full(octets: number[]): AddressClass {
  return METADATA_ADDRESSES.has(octets.join('.')) ? 'metadata' : classifyIPv4(octets);
}

function classifyIPv6(bytes: number[]): AddressClass {
  const embedded = embeddedIPv4(bytes);
  if (embedded) return classifyIPv4Full(embedded);
  if (METADATA_ADDRESSES.has(groupsOf(bytes).join(':'))) return 'metadata';
  if (bytes.every((b) => b === 0)) return 'unspecified';
  if (bytes.slice(0, 15).every((b) => b === 0) && bytes[15] === 1) return 'loopback';
  if (bytes[0] === 0xfe && (bytes[1]! & 0xc0) === 0x80) return 'linkLocal';
  return 'other';
}

/**
 * IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`) and NAT64 (`64:ff9b::a.b.c.d`)
 * addresses reach the IPv4 address inside them.
 */
function embeddedIPv4(bytes: number[]): number[] | undefined {
  const head = bytes.slice(0, 12);
  const mapped = head.slice(0, 10).every((b) => b === 0) && head[10] === 0xff && head[11] === 0xff;
  const compatible = head.every((b) => b === 0) && bytes.slice(12, 14).some((b) => b !== 0);
  const nat64 =
    head[0] === 0 && head[1] === 0x64 && head[2] === 0xff && head[3] === 0x9b && head.slice(4).every((b) => b === 0);
  return mapped || compatible || nat64 ? bytes.slice(12) : undefined;
}

function groupsOf(bytes: number[]): string[] {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups;
}

/** The 16 bytes of an IPv6 address (a `%zone` is ignored); undefined for anything else. */
export function ipv6Bytes(text: string): number[] | undefined {
  if (!isIPv6(text)) return undefined;
  let s = text.split('%')[0]!;
  let tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    tail = v4[1]!.split('.').map(Number);
    s = `${s.slice(0, -v4[1]!.length)}0:0`;
  }
  const [head, rest] = s.split('::');
  const left = head ? head.split(':') : [];
  const right = rest === undefined ? [] : rest ? rest.split(':') : [];
  const groups =
    rest === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const bytes = groups.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
  if (v4) bytes.splice(12, 4, ...tail);
  return bytes;
}
