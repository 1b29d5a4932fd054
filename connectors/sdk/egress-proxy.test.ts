import { createServer, request, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { html, startHostileHosts, type HostileHosts } from '../../test/support/hostile-hosts.ts';
import type { Lookup, Refusal } from './destination.ts';
import { REFUSED_HEADER, startEgressProxy, UNREACHABLE_HEADER } from './egress-proxy.ts';

/** A keep-alive HTTP server on `address` that answers every request with its name. */
async function whoServer(
  name: string,
  address: string,
  port: number,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer({ keepAliveTimeout: 30_000 }, (_req, res) => res.end(name));
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, address, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve()).closeAllConnections()),
  };
}

/** The proxy alone, with Node as the client and a lookup the test controls (names the system cannot resolve). */
describe('egress proxy', () => {
  let hosts: HostileHosts;
  beforeAll(async () => {
    hosts = await startHostileHosts();
    hosts.app.handle('/hello', html('hello'));
  });
  afterAll(async () => {
    await hosts?.close();
  });

  async function withProxy(lookup: Lookup, use: (url: URL, refusals: Refusal[]) => Promise<void>): Promise<void> {
    const refusals: Refusal[] = [];
    const proxy = await startEgressProxy({
      allowedHosts: ['app.test', '127.0.0.1'],
      onRefusal: (r) => refusals.push(r),
      lookup,
    });
    try {
      await use(new URL(proxy.url), refusals);
    } finally {
      await proxy.close();
    }
  }

  function viaProxy(proxy: URL, target: string): Promise<IncomingMessage & { body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: proxy.hostname, port: proxy.port, path: target, headers: { host: new URL(target).host } },
        (res) => {
          let body = '';
          res
            .setEncoding('utf8')
            .on('data', (c: string) => {
              body += c;
            })
            .on('end', () => resolve(Object.assign(res, { body })));
        },
      );
      req.on('error', reject).end();
    });
  }

  function connectVia(proxy: URL, authority: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(Number(proxy.port), proxy.hostname, () =>
        socket.write(`CONNECT ${authority} HTTP/1.1\r\nhost: ${authority}\r\n\r\n`),
      );
      socket
        .setEncoding('utf8')
        .once('data', (chunk: string) => {
          resolve(chunk.split('\r\n')[0]!);
          socket.destroy();
        })
        .on('error', reject);
    });
  }

  it('connects to the address it checked, not to a second answer for the name', async () => {
    const answers = ['127.0.0.1', '169.254.169.254'];
    let lookups = 0;
    const rebinding: Lookup = async () => [answers[lookups++] ?? '169.254.169.254'];
    const port = new URL(hosts.app.origin).port;
    await withProxy(rebinding, async (proxy, refusals) => {
      const res = await viaProxy(proxy, `http://app.test:${port}/hello`);
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('hello');
      expect(lookups).toBe(1);
      expect(refusals).toEqual([]);
    });
  });

  it('tries each checked address in turn, as the browser would', async () => {
    const port = new URL(hosts.app.origin).port;
    // Nothing listens on 127.0.0.3: the first address refuses the connection.
    await withProxy(
      async () => ['127.0.0.3', '127.0.0.1'],
      async (proxy) => {
        expect((await viaProxy(proxy, `http://app.test:${port}/hello`)).statusCode).toBe(200);
        expect(await connectVia(proxy, `app.test:${port}`)).toBe('HTTP/1.1 200 Connection Established');
      },
    );
  });

  it('answers 502 naming the socket error when an allowed server cannot be reached, and 502 to a tunnel', async () => {
    // Nothing listens on 127.0.0.3 (the other loopback addresses are the suite's own).
    await withProxy(
      async () => ['127.0.0.3'],
      async (proxy, refusals) => {
        const res = await viaProxy(proxy, 'http://app.test:9/login');
        expect(res.statusCode).toBe(502);
        expect(res.headers[UNREACHABLE_HEADER]).toBe('ECONNREFUSED');
        expect(res.headers[REFUSED_HEADER]).toBeUndefined();
        expect(await connectVia(proxy, 'app.test:9')).toBe('HTTP/1.1 502 Bad Gateway');
        expect(refusals, 'an unreachable server is not a refused destination').toEqual([]);
      },
    );
  });

  it('answers 502 ENOTFOUND for an allowed name that does not resolve (a DNS outage, a typo): unreachable, not refused', async () => {
    const outage: Lookup = async () => {
      throw Object.assign(new Error('getaddrinfo EAI_AGAIN app.test'), { code: 'EAI_AGAIN' });
    };
    for (const lookup of [outage, async () => []] as Lookup[]) {
      await withProxy(lookup, async (proxy, refusals) => {
        const res = await viaProxy(proxy, 'http://app.test/login');
        expect(res.statusCode).toBe(502);
        expect(res.headers[UNREACHABLE_HEADER]).toBe('ENOTFOUND');
        expect(res.headers[REFUSED_HEADER]).toBeUndefined();
        expect(await connectVia(proxy, 'app.test:443')).toBe('HTTP/1.1 502 Bad Gateway');
        expect(refusals).toEqual([]);
      });
    }
  });

  it('still refuses a name off the list without looking it up, resolvable or not', async () => {
    let lookups = 0;
    await withProxy(
      async () => {
        lookups++;
        throw new Error('no lookup for a refused name');
      },
      async (proxy, refusals) => {
        expect((await viaProxy(proxy, 'http://elsewhere.test/')).statusCode).toBe(403);
        expect(await connectVia(proxy, 'elsewhere.test:443')).toBe('HTTP/1.1 403 Forbidden');
        expect(refusals).toEqual([
          { host: 'elsewhere.test', reason: 'NotAllowed' },
          { host: 'elsewhere.test', reason: 'NotAllowed' },
        ]);
        expect(lookups).toBe(0);
      },
    );
  });

  it.each([
    ['169.254.169.254', 'LinkLocalAddress'],
    ['::ffff:169.254.169.254', 'LinkLocalAddress'],
    ['fd00:ec2::254', 'MetadataAddress'],
    ['0.0.0.0', 'UnspecifiedAddress'],
  ])('refuses an allowed name that resolves to %s (%s), for plain requests and tunnels', async (address, reason) => {
    await withProxy(
      async () => [address],
      async (proxy, refusals) => {
        const res = await viaProxy(proxy, 'http://app.test/latest/meta-data/');
        expect(res.statusCode).toBe(403);
        expect(res.headers[REFUSED_HEADER]).toBe('destination');
        expect(await connectVia(proxy, 'app.test:443')).toBe('HTTP/1.1 403 Forbidden');
        expect(refusals).toEqual([
          { host: 'app.test', reason },
          { host: 'app.test', reason },
        ]);
      },
    );
  });

  it('sends each request to its own host, never down a kept-alive connection to another host on the same port', async () => {
    const a = await whoServer('a', '127.0.0.3', 0);
    const port = a.port;
    const b = await whoServer('b', '127.0.0.4', port);
    const names: Record<string, string> = { 'a.test': '127.0.0.3', 'b.test': '127.0.0.4' };
    const proxy = await startEgressProxy({
      allowedHosts: ['a.test', 'b.test', 'localhost'],
      onRefusal: () => undefined,
      lookup: async (name) => [names[name] ?? '192.0.2.1'],
    });
    try {
      const url = new URL(proxy.url);
      const answers = [];
      for (const host of ['a.test', 'b.test', 'a.test', 'b.test'])
        answers.push((await viaProxy(url, `http://${host}:${port}/who`)).body);
      expect(answers).toEqual(['a', 'b', 'a', 'b']);
    } finally {
      await proxy.close();
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('tunnels to an allowed host and refuses a tunnel to another', async () => {
    const port = new URL(hosts.app.origin).port;
    const foreignPort = new URL(hosts.foreign.origin).port;
    await withProxy(
      async () => {
        throw new Error('no lookups for literals');
      },
      async (proxy, refusals) => {
        expect(await connectVia(proxy, `127.0.0.1:${port}`)).toBe('HTTP/1.1 200 Connection Established');
        // Port 80 is http's default, which a URL parser drops; the tunnel must still know it.
        expect(await connectVia(proxy, '127.0.0.1:80')).toMatch(/^HTTP\/1\.1 (200|502) /);
        expect(await connectVia(proxy, `127.0.0.2:${foreignPort}`)).toBe('HTTP/1.1 403 Forbidden');
        expect(await connectVia(proxy, `[::ffff:7f00:2]:${foreignPort}`)).toBe('HTTP/1.1 403 Forbidden');
        expect(refusals).toEqual([
          { host: '127.0.0.2', reason: 'NotAllowed' },
          { host: '::ffff:7f00:2', reason: 'NotAllowed' },
        ]);
        expect(hosts.foreign.connections).toBe(0);
      },
    );
  });
});
