import { request } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface TlsFront {
  /** https://ADDRESS:PORT */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * An HTTPS front for a test app that serves plain HTTP on loopback: run pods cannot reach this host's loopback,
 * and a login URL off loopback must be https. Listens on `address` (the node address, 198.18.0.1), forwards each
 * request with its Host header and `x-forwarded-proto: https` to `target`.
 */
export async function startTlsFront(
  target: URL,
  address: string,
  tls: { cert: string; key: string },
): Promise<TlsFront> {
  const server = createServer(tls, (req, res) => {
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, 'x-forwarded-proto': 'https' },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, address, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://${address}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
