import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertText, DemoHttpClient } from './client/http-client.ts';
import { codeAt, setupKey, signIn, startEnrollment } from './client/flows.ts';
import { createTestCa } from '../../support/test-ca.ts';

const SERVE = fileURLToPath(new URL('./serve.ts', import.meta.url));
const USER = 'demo@example.com';
const PASSWORD = 'demo password';

/** Starts `serve.ts` as its own process, as `make demo` and the end-to-end tests do. */
async function serve(args: string[]): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [SERVE, '--port', '0', ...args], {
    env: { ...process.env, DEMO_PASSWORD: PASSWORD, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /demo app listening on (https?:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`serve.ts exited with ${code}: ${output}`)));
  });
  return { child, url, output: () => output };
}

async function admin(
  url: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${url}/__admin/${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as unknown) : null };
}

describe('serve.ts as a separate process, arranged through the admin API', () => {
  let server: Awaited<ReturnType<typeof serve>>;

  beforeAll(async () => {
    server = await serve(['--user', USER, '--step-up']);
  });

  afterAll(async () => {
    server.child.kill('SIGTERM');
    if (server.child.exitCode === null) await once(server.child, 'exit');
  });

  it('serves the --user account with the hazard flags given', async () => {
    expect(await admin(server.url, 'GET', 'health')).toEqual({ status: 200, json: { ok: true } });
    const status = await admin(server.url, 'GET', `accounts/${USER}`);
    expect(status.json).toMatchObject({ email: USER, mfa: { enabled: false }, hazards: { stepUp: true } });
    const client = new DemoHttpClient(server.url);
    await signIn(client, USER, PASSWORD);
    expect((await client.get('/settings/security')).path).toBe('/settings/sudo');
  });

  it('creates accounts, switches hazards, reports MFA state without the seed, deletes and resets', async () => {
    const created = await admin(server.url, 'PUT', 'accounts/e2e@example.com', {
      password: 'pw',
      hazards: { rateLimit: 30 },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ email: 'e2e@example.com', hazards: { rateLimit: 30 } });
    const limited = await signIn(new DemoHttpClient(server.url), 'e2e@example.com', 'pw');
    expect(limited.status).toBe(429);

    const seed = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    const patched = await admin(server.url, 'PATCH', 'accounts/e2e@example.com/hazards', {
      rateLimit: false,
      mfaAlreadyOn: { seed },
    });
    expect(patched.json).toMatchObject({
      mfa: { enabled: true, methods: ['totp'], algorithm: 'SHA1', digits: 6, period: 30 },
    });
    expect(JSON.stringify(patched.json)).not.toContain(seed);
    const client = new DemoHttpClient(server.url);
    const prompt = await signIn(client, 'e2e@example.com', 'pw');
    expect((await client.submit(prompt, '/login/two-factor', { code: codeAt(seed, Date.now()) })).path).toBe('/');

    expect((await admin(server.url, 'PUT', 'accounts/e2e@example.com', { password: 'pw2' })).status).toBe(200);
    expect((await client.get('/settings/security')).path).toBe('/login');
    expect((await admin(server.url, 'DELETE', 'accounts/e2e@example.com')).status).toBe(204);
    expect(await admin(server.url, 'GET', 'accounts/e2e@example.com')).toMatchObject({
      status: 404,
      json: { error: 'AccountNotFound' },
    });

    await admin(server.url, 'PUT', 'accounts/gone@example.com', { password: 'pw' });
    expect((await admin(server.url, 'POST', 'reset')).status).toBe(204);
    expect((await admin(server.url, 'GET', 'accounts/gone@example.com')).status).toBe(404);
    expect((await admin(server.url, 'GET', `accounts/${USER}`)).status).toBe(200);
  });

  it('answers 400 with a reason for an unknown hazard or a bad body', async () => {
    expect(await admin(server.url, 'PATCH', `accounts/${USER}/hazards`, { teleport: true })).toMatchObject({
      status: 400,
      json: { error: 'InvalidHazard' },
    });
    expect(await admin(server.url, 'PUT', 'accounts/x@example.com', { hazards: {} })).toMatchObject({
      status: 400,
      json: { error: 'BadRequest' },
    });
    expect(
      await admin(server.url, 'PATCH', `accounts/${USER}/hazards`, { mfaAlreadyOn: { seed: 'not base32!' } }),
    ).toMatchObject({ status: 400, json: { error: 'InvalidHazard' } });
  });

  it('enrolls end to end and shows MFA on through the admin API, logging no secret', async () => {
    await admin(server.url, 'PATCH', `accounts/${USER}/hazards`, { stepUp: false });
    const client = new DemoHttpClient(server.url);
    await signIn(client, USER, PASSWORD);
    const setup = await startEnrollment(client);
    const seed = setupKey(setup);
    const code = codeAt(seed, Date.now());
    const codesPage = await client.submit(setup, '/settings/security/totp/confirm', { code });
    expect(alertText(codesPage)).toBeUndefined();
    expect(await admin(server.url, 'GET', `accounts/${USER}`)).toMatchObject({
      json: { mfa: { enabled: true, methods: ['totp'] } },
    });
    expect(server.output()).toContain('code accepted');
    for (const secret of [PASSWORD, seed, code]) expect(server.output()).not.toContain(secret);
  });
});

/** GET over HTTPS trusting only `ca`: the status, or the TLS error's code. */
function getTrusting(url: string, ca: string): Promise<number | string> {
  return new Promise((resolve) => {
    httpsGet(url, { ca }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

describe('serve.ts over HTTPS', () => {
  it('serves HTTPS with --tls-cert and --tls-key: a client trusting the CA gets in, one trusting another CA is refused', async () => {
    const tls = await createTestCa();
    const [cert, key] = [join(tls.dir, 'app-chain.pem'), join(tls.dir, 'app-key.pem')];
    await Promise.all([writeFile(cert, tls.serving.cert), writeFile(key, tls.serving.key)]);
    const server = await serve(['--tls-cert', cert, '--tls-key', key]);
    try {
      expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(await getTrusting(`${server.url}/__admin/health`, tls.ca.cert)).toBe(200);
      expect(await getTrusting(`${server.url}/__admin/health`, tls.otherCa.cert)).toBe(
        'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      );
    } finally {
      server.child.kill('SIGTERM');
      if (server.child.exitCode === null) await once(server.child, 'exit');
      await tls.remove();
    }
  });
});
