import { createServer, type IncomingMessage, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Small pages on loopback for the page tests of the SDK and of connectors (tests only): the smallest
 * form of what an app answers, where the real app cannot be made to answer it.
 */
export interface LoopbackPages {
  /** `http://127.0.0.1:PORT`. */
  readonly origin: string;
  close(): Promise<void>;
}

export async function serveLoopbackPages(listener: RequestListener): Promise<LoopbackPages> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export function htmlPage(body: string): string {
  return `<!doctype html><html><body>${body}</body></html>`;
}

/** The fields of a posted form (application/x-www-form-urlencoded). */
export async function formOf(req: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of req) body += String(chunk);
  return new URLSearchParams(body);
}
