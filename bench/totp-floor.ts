// The floor bench/totp.ts compares the code service with: a bare Node HTTPS server on loopback that
// checks a bearer token against an in-memory map and returns an otpauth code for an in-memory seed.
// No TokenReview, no RBAC, no rate limits, no audit: what any code service on this machine costs at least.
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Secret, TOTP } from 'otpauth';
import type { TotpSeed } from '../core/totp/totp-seed.ts';

export async function startFloor(
  tls: { certPath: string; keyPath: string },
  tokens: readonly string[],
  seed: TotpSeed,
): Promise<{ port: number; stop(): Promise<void> }> {
  const known = new Map(tokens.map((token) => [`Bearer ${token}`, true]));
  const totp = new TOTP({
    secret: Secret.fromBase32(seed.secret.reveal()),
    algorithm: seed.algorithm,
    digits: seed.digits,
    period: seed.period,
  });
  const [cert, key] = await Promise.all([readFile(tls.certPath, 'utf8'), readFile(tls.keyPath, 'utf8')]);
  const server: Server = createServer({ cert, key, minVersion: 'TLSv1.2' }, (req, res) => {
    if (!known.get(req.headers.authorization ?? '')) {
      res.writeHead(401).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(
      JSON.stringify({ code: totp.generate(), period: seed.period, digits: seed.digits, algorithm: seed.algorithm }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
