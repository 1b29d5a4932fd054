import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { ControlPlaneError } from './errors.ts';
import type { ManagedProcess } from './managed-process.ts';

export interface TlsClientOptions {
  ca: string;
  cert: string;
  key: string;
}

export interface HttpResponse {
  status: number;
  body: string;
}

/** One GET; with TLS options it presents the client certificate and trusts only that CA. */
export function httpGet(url: string, tls?: TlsClientOptions, timeoutMs = 5_000): Promise<HttpResponse> {
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  const options: RequestOptions = { method: 'GET', timeout: timeoutMs, ...tls };
  return new Promise((resolve, reject) => {
    const req = send(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Polls url until it answers 200, failing early when the process exits and, after timeoutMs,
 * with the process's last output so the reason is in the test report.
 */
export async function waitUntilServing(
  server: ManagedProcess,
  url: string,
  timeoutMs: number,
  tls?: TlsClientOptions,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastAnswer = 'no answer yet';
  while (Date.now() < deadline) {
    if (server.exit) {
      throw new ControlPlaneError(
        'ProcessExited',
        `${server.name} exited (${JSON.stringify(server.exit)}) before ${url} answered; its last output:\n${server.tail()}`,
      );
    }
    try {
      const response = await httpGet(url, tls, 2_000);
      if (response.status === 200) return;
      lastAnswer = `HTTP ${response.status}: ${response.body.slice(0, 500)}`;
    } catch (e: unknown) {
      lastAnswer = describe(e);
    }
    await sleep(100);
  }
  throw new ControlPlaneError(
    'StartTimeout',
    `${server.name} did not serve ${url} within ${timeoutMs} ms (last answer: ${lastAnswer}); ` +
      `a busy machine may need a longer startTimeoutMs. Its last output:\n${server.tail()}`,
  );
}
