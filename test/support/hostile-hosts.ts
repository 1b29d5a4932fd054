import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Two loopback servers for the browser's host guard: `app` on 127.0.0.1 (the allowed host) answers
 * what each test sets, and `foreign` on 127.0.0.2 (a loopback host no allow-list names) records
 * every connection and request that reaches it, so a test can assert that nothing did.
 */
export interface HostileHosts {
  readonly app: RecordingServer;
  readonly foreign: RecordingServer;
  close(): Promise<void>;
}

export interface RecordingServer {
  readonly origin: string;
  readonly connections: number;
  /** Method, path and body of each request, in order. */
  readonly requests: readonly { method: string; path: string; body: string }[];
  /** WebSocket upgrade attempts. */
  readonly upgrades: number;
  /** Answer `path` (exact, query ignored) with this handler. */
  handle(path: string, handler: (req: IncomingMessage, res: ServerResponse) => void): void;
  /** Forget what was recorded, so each test sees only its own traffic. */
  reset(): void;
}

export async function startHostileHosts(): Promise<HostileHosts> {
  const [app, foreign] = await Promise.all([recordingServer('127.0.0.1'), recordingServer('127.0.0.2')]);
  return {
    app: app.api,
    foreign: foreign.api,
    close: async () => {
      await Promise.all([app.close(), foreign.close()]);
    },
  };
}

async function recordingServer(host: string): Promise<{ api: RecordingServer; close: () => Promise<void> }> {
  const handlers = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>();
  const requests: { method: string; path: string; body: string }[] = [];
  let connections = 0;
  let upgrades = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      requests.push({ method: req.method ?? '', path, body: Buffer.concat(chunks).toString() });
      const handler = handlers.get(path);
      if (handler) handler(req, res);
      else res.writeHead(404, { 'content-type': 'text/html' }).end('<!doctype html><title>not found</title>');
    });
  });
  server.on('connection', () => {
    connections++;
  });
  server.on('upgrade', (_req, socket) => {
    upgrades++;
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const origin = `http://${host}:${(server.address() as AddressInfo).port}`;
  const api: RecordingServer = {
    origin,
    get connections() {
      return connections;
    },
    get requests() {
      return requests;
    },
    get upgrades() {
      return upgrades;
    },
    handle: (path, handler) => {
      handlers.set(path, handler);
    },
    reset: () => {
      requests.length = 0;
      connections = 0;
      upgrades = 0;
    },
  };
  return {
    api,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function redirect(location: string, status = 302): (req: IncomingMessage, res: ServerResponse) => void {
  return (_req, res) => {
    res.writeHead(status, { location }).end();
  };
}

export function html(body: string): (req: IncomingMessage, res: ServerResponse) => void {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><html><body>${body}</body></html>`);
  };
}
