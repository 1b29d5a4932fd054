import { describe, expect, it } from 'vitest';
import {
  allowsLoopback,
  checkHost,
  classifyAddress,
  hostMatches,
  ipv6Bytes,
  normalizeHost,
  resolveDestination,
  type Lookup,
} from './destination.ts';

const ALLOWED = ['acme.example', '*.acme.example'];

describe('normalizeHost', () => {
  it.each([
    ['2852039166', '169.254.169.254'],
    ['0xa9fea9fe', '169.254.169.254'],
    ['0251.0376.0251.0376', '169.254.169.254'],
    ['169.254.43518', '169.254.169.254'],
    ['169.254.169.254.', '169.254.169.254'],
    ['[::ffff:169.254.169.254]', '::ffff:a9fe:a9fe'],
    ['::FFFF:A9FE:A9FE', '::ffff:a9fe:a9fe'],
    ['ACME.Example..', 'acme.example'],
    ['user:pw@acme.example', 'acme.example'],
  ])('reads %s as %s', (raw, host) => expect(normalizeHost(raw)).toBe(host));

  it.each(['', 'a b', '[::g]', 'exa mple.com'])('refuses %j', (raw) => expect(normalizeHost(raw)).toBeUndefined());
});

describe('classifyAddress', () => {
  it.each([
    ['169.254.169.254', 'linkLocal'],
    ['169.254.0.1', 'linkLocal'],
    ['fe80::1', 'linkLocal'],
    ['febf:ffff::1', 'linkLocal'],
    ['fec0::1', 'other'],
    ['::ffff:169.254.169.254', 'linkLocal'],
    ['::ffff:a9fe:a9fe', 'linkLocal'],
    ['0:0:0:0:0:ffff:a9fe:a9fe', 'linkLocal'],
    ['::169.254.169.254', 'linkLocal'],
    ['64:ff9b::a9fe:a9fe', 'linkLocal'],
    ['fd00:ec2::254', 'metadata'],
    ['168.63.129.16', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['10.0.0.1', 'other'],
    ['2001:db8::1', 'other'],
    ['acme.example', 'other'],
  ])('%s is %s', (address, kind) => expect(classifyAddress(address)).toBe(kind));

  it('expands IPv6 with a zone and an IPv4 tail', () => {
    expect(ipv6Bytes('fe80::1%eth0')).toEqual([0xfe, 0x80, ...Array(13).fill(0), 1]);
    expect(ipv6Bytes('1:2:3:4:5:6:1.2.3.4')?.slice(10)).toEqual([0, 6, 1, 2, 3, 4]);
  });
});

describe('hostMatches', () => {
  it('does not let a wildcard match the apex or a look-alike', () => {
    expect(hostMatches('acme.example', '*.acme.example')).toBe(false);
    expect(hostMatches('evilacme.example', '*.acme.example')).toBe(false);
    expect(hostMatches('EU.Acme.Example.', '*.acme.example')).toBe(true);
  });
  it('compares addresses in their canonical form', () => {
    expect(hostMatches('[::1]', '::1')).toBe(true);
    expect(hostMatches('2130706433', '127.0.0.1')).toBe(true);
  });
});

describe('checkHost', () => {
  it.each([
    ['evil.example', 'NotAllowed'],
    ['acme.example.evil.example', 'NotAllowed'],
    ['169.254.169.254', 'LinkLocalAddress'],
    ['2852039166', 'LinkLocalAddress'],
    ['[::ffff:169.254.169.254]', 'LinkLocalAddress'],
    ['[fe80::1]', 'LinkLocalAddress'],
    ['[fd00:ec2::254]', 'MetadataAddress'],
    ['METADATA.GOOGLE.INTERNAL.', 'MetadataAddress'],
    ['0.0.0.0', 'UnspecifiedAddress'],
    ['127.0.0.1', 'LoopbackAddress'],
    ['[::1]', 'LoopbackAddress'],
    ['a b', 'Unparseable'],
  ])('refuses %s: %s', (host, reason) => expect(checkHost(host, ALLOWED)?.reason).toBe(reason));

  it('accepts allowed hosts in any spelling', () => {
    expect(checkHost('ACME.example.', ALLOWED)).toBeUndefined();
    expect(checkHost('login.acme.example', ALLOWED)).toBeUndefined();
  });

  it('refuses metadata and link-local addresses even when the allow-list names them', () => {
    const careless = ['169.254.169.254', 'metadata.google.internal', '[fe80::1]'];
    expect(checkHost('169.254.169.254', careless)?.reason).toBe('LinkLocalAddress');
    expect(checkHost('metadata.google.internal', careless)?.reason).toBe('MetadataAddress');
    expect(checkHost('fe80::1', careless)?.reason).toBe('LinkLocalAddress');
  });

  it('lets loopback through only where the allow-list names a loopback host, and then only listed ones', () => {
    expect(allowsLoopback(['127.0.0.1'])).toBe(true);
    expect(allowsLoopback(['localhost'])).toBe(true);
    expect(allowsLoopback(['::1'])).toBe(true);
    expect(allowsLoopback(ALLOWED)).toBe(false);
    expect(checkHost('127.0.0.1', ['127.0.0.1'])).toBeUndefined();
    expect(checkHost('127.0.0.2', ['127.0.0.1'])?.reason).toBe('NotAllowed');
  });
});

describe('resolveDestination', () => {
  const answers =
    (table: Record<string, string[]>): Lookup =>
    async (name) => {
      const found = table[name];
      if (!found) throw Object.assign(new Error(`ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
      return found;
    };

  it('returns the addresses to connect to', async () => {
    expect(
      await resolveDestination('acme.example', ALLOWED, answers({ 'acme.example': ['203.0.113.7', '2001:db8::7'] })),
    ).toEqual({ addresses: ['203.0.113.7', '2001:db8::7'] });
  });

  it.each([
    [['169.254.169.254'], 'LinkLocalAddress'],
    [['203.0.113.7', '::ffff:169.254.169.254'], 'LinkLocalAddress'],
    [['fd00:ec2::254'], 'MetadataAddress'],
    [['0.0.0.0'], 'UnspecifiedAddress'],
    [['127.0.0.1'], 'LoopbackAddress'],
    [[], 'Unresolvable'],
  ])('refuses an allowed name that resolves to %j: %s', async (addresses, reason) => {
    expect(await resolveDestination('acme.example', ALLOWED, answers({ 'acme.example': addresses }))).toEqual({
      refusal: { host: 'acme.example', reason },
    });
  });

  it('refuses a name that does not resolve, and never looks up a refused host', async () => {
    let lookups = 0;
    const counting: Lookup = async () => {
      lookups++;
      throw new Error('ENOTFOUND');
    };
    expect(await resolveDestination('acme.example', ALLOWED, counting)).toEqual({
      refusal: { host: 'acme.example', reason: 'Unresolvable' },
    });
    expect(await resolveDestination('evil.example', ALLOWED, counting)).toEqual({
      refusal: { host: 'evil.example', reason: 'NotAllowed' },
    });
    expect(lookups).toBe(1);
  });

  it('does not look up address literals', async () => {
    const never: Lookup = async () => {
      throw new Error('looked up');
    };
    expect(await resolveDestination('127.0.0.1', ['127.0.0.1'], never)).toEqual({ addresses: ['127.0.0.1'] });
  });
});
