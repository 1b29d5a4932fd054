import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, isIPv6, type AddressInfo, type LookupFunction, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { resolveDestination, type Lookup, type Refusal } from './destination.ts';

/**
 * The browser's only way out. Playwright's route handlers never see redirect hops (Chromium
 * follows them inside its network stack), and Chromium resolves names itself; a proxy sees every
 * connection: each hop, each subresource, each WebSocket (tunnelled with CONNECT), and resolves
 * the name itself, connecting to the very address it checked.
 */
export interface EgressProxy {
  /** `http://127.0.0.1:PORT`, for the browser context's `proxy.server`. */
  readonly url: string;
  close(): Promise<void>;
}

export interface EgressProxyOptions {
  allowedHosts: readonly string[];
  /** Called for each refused destination, before anything is sent to it. */
  onRefusal: (refusal: Refusal) => void;
  lookup?: Lookup;
}

/** Sent instead of a refused hop, so a refusal is never mistaken for the app's answer. */
export const REFUSED_HEADER = 'x-mfa-operator-refused';
/** On the proxy's own 502 for a plain-HTTP request whose server could not be reached: the socket error's code. */
export const UNREACHABLE_HEADER = 'x-mfa-operator-unreachable';
/** What UNREACHABLE_HEADER may carry: a socket error code, never text of a page. */
export const SOCKET_ERROR_CODE = /^E[A-Z]{2,30}$/;

export async function startEgressProxy(options: EgressProxyOptions): Promise<EgressProxy> {
  const sockets = new Set<Socket | Duplex>();
  const vet = async (host: string): Promise<Vetted> => {
    const result = await resolveDestination(host, options.allowedHosts, options.lookup);
    if ('addresses' in result) return pinned(result.addresses);
    // An allowed name that does not resolve (a DNS outage, a typo) is a server not reached, not a policy refusal.
    if (result.refusal.reason === 'Unresolvable') return UNRESOLVABLE;
    options.onRefusal(result.refusal);
    return undefined;
  };
  const server = createServer((req, res) => void forwardRequest(req, res, vet));
  server.on(
    'connect',
    (req: IncomingMessage, client: Duplex, head: Buffer) => void tunnel(req, client, head, vet, sockets),
  );
  // Chromium tunnels WebSockets with CONNECT; an upgrade on a plain request is not one it sends.
  server.on('upgrade', (_req: IncomingMessage, client: Duplex) => client.end('HTTP/1.1 501 Not Implemented\r\n\r\n'));
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The checked addresses; UNRESOLVABLE for an allowed name without any; undefined when refused. */
type Vetted = PinnedAddresses | typeof UNRESOLVABLE | undefined;
type Vet = (host: string) => Promise<Vetted>;
/** What UNREACHABLE_HEADER says for an allowed name that did not resolve, as Node's lookup would. */
const UNRESOLVABLE = 'ENOTFOUND';

/**
 * Connection options that make Node connect to the checked addresses only: its lookup answers
 * with them, and `autoSelectFamily` tries each in turn (Happy Eyeballs) as Chromium would have.
 */
interface PinnedAddresses {
  host: string;
  autoSelectFamily: true;
  lookup: LookupFunction;
}

function pinned(addresses: readonly string[]): PinnedAddresses {
  const entries = addresses.map((address) => ({ address, family: isIPv6(address) ? 6 : 4 }));
  const lookup = ((_name: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, entries);
    else callback(null, entries[0]!.address, entries[0]!.family);
  }) as unknown as LookupFunction;
  // A name, so that Node calls the lookup; it is never resolved anywhere else. It spells the
  // addresses because Node's agent pools kept-alive connections by host and port: under one name
  // for every destination, a request for one host went down an idle connection to another.
  const name = addresses.map((address) => address.replace(/[^0-9a-z]/gi, '-')).join('.');
  return { host: `${name}.pinned.invalid`, autoSelectFamily: true, lookup };
}

/** A plain-HTTP request in absolute form (`GET http://host:port/path`). */
async function forwardRequest(req: IncomingMessage, res: ServerResponse, vet: Vet): Promise<void> {
  const target = absoluteUrl(req.url);
  if (!target || target.protocol !== 'http:') {
    res.writeHead(400, { [REFUSED_HEADER]: 'Unparseable' }).end();
    return;
  }
  const destination = await vet(target.hostname);
  if (destination === UNRESOLVABLE) {
    res.writeHead(502, { [UNREACHABLE_HEADER]: UNRESOLVABLE, 'content-length': '0' }).end();
    return;
  }
  if (!destination) {
    refuse(res);
    return;
  }
  const headers = { ...req.headers };
  delete headers['proxy-connection'];
  delete headers['proxy-authorization'];
  const upstream = httpRequest(
    {
      ...destination,
      port: Number(target.port || 80),
      method: req.method,
      path: `${target.pathname}${target.search}`,
      headers,
      setHost: false,
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders);
      answer.on('error', () => res.destroy());
      answer.pipe(res);
    },
  );
  upstream.on('error', (e: NodeJS.ErrnoException) => {
    if (res.headersSent) res.destroy();
    else
      res
        .writeHead(502, {
          [UNREACHABLE_HEADER]: SOCKET_ERROR_CODE.test(e.code ?? '') ? e.code! : 'EUNKNOWN',
          'content-length': '0',
        })
        .end();
  });
  // The browser hanging up mid-request must not take the runner down with an unhandled 'error'.
  req.on('error', () => upstream.destroy());
  res.on('error', () => upstream.destroy());
  req.pipe(upstream);
}

function refuse(res: ServerResponse): void {
  res
    .writeHead(403, { [REFUSED_HEADER]: 'destination', 'content-type': 'text/plain', connection: 'close' })
    .end('mfa-operator refused this destination\n');
}

/** `CONNECT host:port` (HTTPS and WebSockets): vet the host, then splice the bytes through. */
async function tunnel(
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  vet: Vet,
  sockets: Set<Socket | Duplex>,
): Promise<void> {
  client.on('error', () => client.destroy());
  const authority = req.url ?? '';
  const target = absoluteUrl(`http://${authority}`);
  // Read the port from the authority itself: the URL drops 80 as http's default.
  const port = Number(/:(\d{1,5})$/.exec(authority)?.[1] ?? 0);
  const destination = target && port > 0 ? await vet(target.hostname) : undefined;
  if (destination === UNRESOLVABLE) {
    client.end(`HTTP/1.1 502 Bad Gateway\r\n${UNREACHABLE_HEADER}: ${UNRESOLVABLE}\r\n\r\n`);
    return;
  }
  if (!target || !destination) {
    client.end(`HTTP/1.1 403 Forbidden\r\n${REFUSED_HEADER}: destination\r\n\r\n`);
    return;
  }
  let established = false;
  const upstream = connect({ ...destination, port }, () => {
    established = true;
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  sockets.add(upstream);
  upstream.once('close', () => {
    sockets.delete(upstream);
    client.destroy();
  });
  // Before the tunnel is up the browser gets a proxy answer; after, only a closed connection.
  upstream.on('error', () => (!established ? client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n') : client.destroy()));
  client.once('close', () => upstream.destroy());
}

function absoluteUrl(raw: string | undefined): URL | undefined {
  try {
    return new URL(raw ?? '');
  } catch {
    return undefined;
  }
}
