import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config.ts';

describe('code service flags', () => {
  it('leave the service off unless a port is given', () => {
    expect(parseConfig([]).codeService).toBeUndefined();
  });

  it('parse port, TLS files, limits and the review cache TTL', () => {
    const config = parseConfig([
      '--code-service-port',
      '8443',
      '--code-service-cert',
      '/tls/tls.crt',
      '--code-service-key',
      '/tls/tls.key',
      '--code-service-rate',
      '120',
      '--code-service-burst',
      '5',
      '--code-service-review-cache-ttl',
      '0',
      '--code-service-source-rate',
      '30',
      '--code-service-token-review-rate',
      '90',
      '--code-service-token-review-burst',
      '9',
    ]);

    expect(config.codeService).toEqual({
      port: 8443,
      certPath: '/tls/tls.crt',
      keyPath: '/tls/tls.key',
      ratePerMinute: 120,
      burst: 5,
      sourceRatePerMinute: 30,
      sourceBurst: 20,
      tokenReviewRatePerMinute: 90,
      tokenReviewBurst: 9,
      reviewCacheTtlMs: 0,
      maxLoginWaitSeconds: 35,
      audience: 'mfa-operator.io/code-service',
    });
  });

  it('take the URL and CA bundle runs reach the service with, and refuse a URL that is not plain https', () => {
    const base = ['--code-service-port', '8443', '--code-service-cert', 'c', '--code-service-key', 'k'];

    expect(
      parseConfig([
        ...base,
        '--code-service-run-url',
        'https://codes.ops.svc:8443/',
        '--code-service-run-ca',
        '/tls/ca.crt',
      ]).codeService,
    ).toMatchObject({ runUrl: 'https://codes.ops.svc:8443', runCaPath: '/tls/ca.crt' });
    expect(parseConfig(base).codeService?.runUrl).toBeUndefined();
    for (const url of ['http://codes.ops.svc', 'https://u:p@codes.ops.svc', 'https://codes.ops.svc/?x=1', 'codes']) {
      expect(() => parseConfig([...base, '--code-service-run-url', url])).toThrow(
        /--code-service-run-url must be an https URL/,
      );
    }
  });

  it('name what is missing or wrong', () => {
    expect(() => parseConfig(['--code-service-port', '8443'])).toThrow(/--code-service-cert and --code-service-key/);
    expect(() =>
      parseConfig([
        '--code-service-port',
        '8443',
        '--code-service-cert',
        'c',
        '--code-service-key',
        'k',
        '--code-service-rate',
        '0',
      ]),
    ).toThrow(/--code-service-rate must be a whole number ≥ 1, got "0"/);
    expect(() =>
      parseConfig([
        '--code-service-port',
        '8443',
        '--code-service-cert',
        'c',
        '--code-service-key',
        'k',
        '--code-service-review-cache-ttl',
        '301',
      ]),
    ).toThrow('--code-service-review-cache-ttl must be a whole number from 0 to 300, got "301"');
    expect(() =>
      parseConfig([
        '--code-service-port',
        '8443',
        '--code-service-cert',
        'c',
        '--code-service-key',
        'k',
        '--code-service-audience',
        '',
      ]),
    ).toThrow(/--code-service-audience must be one audience/);
    expect(() =>
      parseConfig([
        '--code-service-port',
        '8443',
        '--code-service-cert',
        'c',
        '--code-service-key',
        'k',
        '--code-service-audience',
        'a,b',
      ]),
    ).toThrow(/--code-service-audience must be one audience .*got "a,b"/);
  });

  it('serve the aggregated API only on a port given, and refuse one out of range', () => {
    const tls = ['--code-service-port', '8443', '--code-service-cert', '/c', '--code-service-key', '/k'];

    expect(parseConfig(tls).codeService?.aggregatedPort).toBeUndefined();
    expect(parseConfig([...tls, '--code-service-aggregated-port', '8444']).codeService?.aggregatedPort).toBe(8444);
    expect(() => parseConfig([...tls, '--code-service-aggregated-port', '70000'])).toThrow(
      '--code-service-aggregated-port must be a whole number from 0 to 65535, got "70000"',
    );
  });
});
