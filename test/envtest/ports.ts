import { createServer } from 'node:net';

/**
 * A loopback port that was free a moment ago. Another process can take it before ours binds;
 * the control plane retries with fresh ports when that happens.
 */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port from the loopback listener'));
      });
    });
  });
}
