import type { BrowserContext, Route } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logging/logger.ts';
import { HostGuard, routedUrls } from './host-guard.ts';

const logger = createLogger('host-guard-test', { level: 'silent' });
const APP = 'http://127.0.0.1:4000';

describe('routedUrls: the requests the host guard is asked about', () => {
  const pattern = routedUrls(new Set([APP, 'http://[::1]:8080']));

  it.each([`${APP}`, `${APP}/`, `${APP}/login?next=/x`, `${APP}#top`, 'http://[::1]:8080/settings'])(
    'leaves out %s, on an allowed origin',
    (url) => {
      expect(pattern.test(url)).toBe(false);
    },
  );

  it.each([
    'http://127.0.0.2:4000/',
    'http://127.0.0.1:40001/',
    'https://127.0.0.1:4000/',
    'ws://127.0.0.1:4000/socket',
    'http://127.0.0.1:4000@evil.example/',
    'http://127.0.0.1:4000.evil.example/',
    'http://user@127.0.0.1:4000/',
    'http://127.0.0.1/',
    'http://127x0x0x1:4000/',
    'data:text/plain,x',
  ])('asks about %s', (url) => {
    expect(pattern.test(url)).toBe(true);
  });

  it('asks about everything before any origin was allowed', () => {
    expect(routedUrls(new Set()).test(`${APP}/`)).toBe(true);
  });
});

/** A context that records what the guard routes; the requests are handed to the handler by the test. */
function fakeContext(): {
  context: BrowserContext;
  calls: string[];
  patterns: RegExp[];
  handler: () => (route: Route) => Promise<void>;
} {
  const calls: string[] = [];
  const patterns: RegExp[] = [];
  let handler: ((route: Route) => Promise<void>) | undefined;
  const context = {
    route: async (pattern: RegExp, h: (route: Route) => Promise<void>) => {
      calls.push(`route ${pattern.source}`);
      patterns.push(pattern);
      handler = h;
    },
    unroute: async (pattern: RegExp) => {
      calls.push(`unroute ${pattern.source}`);
      patterns.splice(
        patterns.findIndex((p) => p.source === pattern.source),
        1,
      );
    },
  } as unknown as BrowserContext;
  return { context, calls, patterns, handler: () => handler! };
}

function request(url: string): { route: Route; outcome: () => string | undefined } {
  let outcome: string | undefined;
  const route = {
    request: () => ({ url: () => url }),
    continue: async () => {
      outcome = 'continued';
    },
    abort: async (code: string) => {
      outcome = `aborted ${code}`;
    },
  } as unknown as Route;
  return { route, outcome: () => outcome };
}

describe('HostGuard decision cache', () => {
  it('routes a new pattern without an allowed origin before removing the old one', async () => {
    const { context, calls, patterns, handler } = fakeContext();
    const guard = new HostGuard(['127.0.0.1'], logger);
    await guard.install(context);

    const first = request(`${APP}/login`);
    await handler()(first.route);

    expect(first.outcome()).toBe('continued');
    expect(calls).toEqual(['route ^', `route ${routedUrls(new Set([APP])).source}`, 'unroute ^']);
    expect(patterns).toHaveLength(1);
    expect(patterns[0]!.test(`${APP}/settings`)).toBe(false);
    expect(patterns[0]!.test('http://127.0.0.2:4000/')).toBe(true);
  });

  it('refuses a host off the list even after another origin was allowed, and caches nothing for it', async () => {
    const { context, calls, handler } = fakeContext();
    const guard = new HostGuard(['127.0.0.1'], logger);
    await guard.install(context);
    await handler()(request(`${APP}/login`).route);
    const before = [...calls];

    const foreign = request('http://127.0.0.2:4000/collect');
    await handler()(foreign.route);
    await handler()(request(`${APP}/again`).route);

    expect(foreign.outcome()).toBe('aborted blockedbyclient');
    expect(guard.refusals).toEqual([{ host: '127.0.0.2', reason: 'NotAllowed' }]);
    expect(calls).toEqual(before);
  });

  it('lets a non-web request through without caching an origin for it', async () => {
    const { context, calls, handler } = fakeContext();
    await new HostGuard(['127.0.0.1'], logger).install(context);

    const blob = request('blob:http://127.0.0.1:4000/uuid');
    await handler()(blob.route);

    expect(blob.outcome()).toBe('continued');
    expect(calls).toEqual(['route ^']);
  });
});
