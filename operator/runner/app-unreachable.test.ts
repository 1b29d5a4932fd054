import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../../test/envtest/ports.ts';
import { DemoRunFixture, expectNoSecrets } from '../../test/runner/demo-run-fixture.ts';

// A login URL nothing answers at: the run says so and retries, rather than failing as an unexpected Playwright error.
describe('a run whose app cannot be reached', () => {
  let fixture: DemoRunFixture;
  let hangUp: Server;
  beforeAll(async () => {
    fixture = await DemoRunFixture.start();
    // Accepts each connection and closes it without a byte.
    hangUp = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => hangUp.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => hangUp?.close(resolve));
    await fixture?.close();
  });

  it('fails with AppUnreachable naming the host and the socket error when nothing listens, retryable, and nothing is sent', async () => {
    const account = await fixture.account();
    const port = await freeLoopbackPort();

    const summary = await account.run({ loginUrl: `http://127.0.0.1:${port}/login` });

    expect(summary).toMatchObject({ outcome: 'Failed', reason: 'AppUnreachable', retryable: true });
    expect(summary.message).toContain(`Could not reach 127.0.0.1:${port} (ECONNREFUSED)`);
    expect(summary.message).toContain('spec.account.loginUrl');
    expect(summary.steps.map((s) => s.name)).toContain('login');
    expectNoSecrets([JSON.stringify(summary), ...account.logLines], { strings: [account.password] });
  });

  it('fails the same way over HTTPS, where the proxy cannot open the tunnel', async () => {
    const account = await fixture.account();
    const port = await freeLoopbackPort();

    const summary = await account.run({ loginUrl: `https://127.0.0.1:${port}/login` });

    expect(summary).toMatchObject({ outcome: 'Failed', reason: 'AppUnreachable', retryable: true });
    expect(summary.message).toContain(`127.0.0.1:${port} (net::ERR_TUNNEL_CONNECTION_FAILED)`);
  });

  it('fails the same way when the server hangs up without an answer', async () => {
    const account = await fixture.account();
    const { port } = hangUp.address() as { port: number };

    const summary = await account.run({ loginUrl: `http://127.0.0.1:${port}/login` });

    expect(summary).toMatchObject({ outcome: 'Failed', reason: 'AppUnreachable', retryable: true });
    expect(summary.message).toContain(`127.0.0.1:${port} (ECONNRESET)`);
  });
});
