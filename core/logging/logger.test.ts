import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { secret } from '../secrets/secret-value.ts';
import { createLogger, type LogOptions } from './logger.ts';

function capture(options: LogOptions = {}) {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return {
    log: createLogger('test', options, stream),
    out: () => lines.join(''),
    records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const JWT =
  'eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YTpiIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
const PEM = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n';

describe('createLogger', () => {
  it('redacts secret-named fields at any depth, whatever their case or separators', () => {
    const { log, out, records } = capture();

    log.info(
      {
        password: 'hunter2-a',
        run: { seed: 'JBSWY3DPAAAA' },
        a: { b: { c: { d: { e: { code: '123456', recoveryCodes: ['rc-aaaa-1111'] } } } } },
        request: {
          headers: {
            Authorization: 'Basic dXNlcjpodW50ZXIy',
            Cookie: 'session=cookie-value-1',
            'set-cookie': ['sid=cookie-value-2'],
          },
        },
        sa: {
          key: 'gcp-key-value',
          private_key: 'pk-value-1',
          privateKey: 'pk-value-2',
          sessionToken: 'session-token-1',
        },
        list: [{ deep: [{ stringData: { password: 'list-secret-1' } }] }],
        kept: { name: 'shared', namespace: 'team-a', secretName: 'shared-mfa-seed' },
      },
      'step done',
    );

    const text = out();
    for (const value of [
      'hunter2-a',
      'JBSWY3DPAAAA',
      '123456',
      'rc-aaaa-1111',
      'dXNlcjpodW50ZXIy',
      'cookie-value-1',
      'cookie-value-2',
      'gcp-key-value',
      'pk-value-1',
      'pk-value-2',
      'session-token-1',
      'list-secret-1',
    ])
      expect(text).not.toContain(value);
    expect(records()[0]).toMatchObject({
      msg: 'step done',
      kept: { name: 'shared', namespace: 'team-a', secretName: 'shared-mfa-seed' },
    });
    expect(records()[0]).toMatchObject({
      a: { b: { c: { d: { e: { code: '[redacted]' } } } } },
      sa: { private_key: '[redacted]' },
    });
  });

  it("never prints a Kubernetes Secret object's data", () => {
    const { log, out, records } = capture();
    const secretObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'creds', namespace: 'team-a' },
      data: { password: Buffer.from('s3cr3t-pw').toString('base64') },
      stringData: { username: 'bob-the-admin' },
    };

    log.warn({ object: secretObject, nested: { items: [secretObject] } }, 'could not update');

    expect(out()).not.toContain(Buffer.from('s3cr3t-pw').toString('base64'));
    expect(out()).not.toContain('bob-the-admin');
    expect(records()[0]).toMatchObject({ object: { metadata: { name: 'creds' }, data: '[redacted]' } });
  });

  it('redacts inside errors: their fields, their cause, and secrets in err.message and err.stack by shape', () => {
    const { log, out, records } = capture();
    const cause = Object.assign(new Error(`upstream said Bearer ${JWT}`), { token: 'cause-token-1' });
    const error = Object.assign(new Error(`request to https://admin:hunter2-b@app.example.com failed`, { cause }), {
      body: { apiKey: 'body-api-key' },
    });

    log.error({ err: error }, 'sync failed');
    log.error(error);

    const text = out();
    for (const value of [JWT, 'cause-token-1', 'hunter2-b', 'body-api-key']) expect(text).not.toContain(value);
    expect(records()[0]).toMatchObject({
      err: {
        type: 'Error',
        message: 'request to https://admin:[redacted]@app.example.com failed',
        cause: { token: '[redacted]' },
      },
    });
    expect(String((records()[0]!.err as { stack: string }).stack)).toContain('logger.test.ts');
    expect(records()[1]!.msg).toBe('request to https://admin:[redacted]@app.example.com failed');
  });

  it('removes secrets by shape from message strings: bearer tokens, JWTs, otpauth URIs, private keys', () => {
    const { log, out } = capture();

    log.info(`sent Authorization: Bearer ${JWT.slice(0, 30)}`);
    log.info(`token ${JWT} accepted`);
    log.info('setup key otpauth://totp/Demo:bob?secret=JBSWY3DPEHPK3PXP&issuer=Demo shown');
    log.info(`key file: ${PEM}`);

    const text = out();
    for (const value of [JWT.slice(0, 30), JWT, 'JBSWY3DPEHPK3PXP', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC'])
      expect(text).not.toContain(value);
    expect(text).toContain('Bearer [redacted]');
  });

  it('removes every value the scrub function knows, from the message, fields, bindings and errors', () => {
    const known = ['correct-horse-9', 'qu"ote\\d-secret'];
    const { log, out } = capture({
      scrub: (line) => known.reduce((l, v) => l.split(JSON.stringify(v).slice(1, -1)).join('[redacted]'), line),
    });

    log
      .child({ note: 'child of correct-horse-9' })
      .info({ detail: 'typed correct-horse-9 then qu"ote\\d-secret' }, 'filled in correct-horse-9');
    log.error(new Error('page echoed qu"ote\\d-secret'));

    expect(out()).not.toContain('correct-horse-9');
    expect(out()).not.toContain(JSON.stringify('qu"ote\\d-secret').slice(1, -1));
  });

  it('redacts secret-named child bindings and prints SecretValue fields as [redacted] whatever their name', () => {
    const { log, out } = capture();

    log.child({ token: 'binding-token-1', account: 'shared' }).info({ anything: secret('s3cr3t-value') }, 'x');

    expect(out()).not.toContain('binding-token-1');
    expect(out()).not.toContain('s3cr3t-value');
    expect(out()).toContain('"account":"shared"');
    expect(out()).toContain('[redacted]');
  });

  it('survives cycles and very deep objects', () => {
    const { log, records } = capture();
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.self = cyclic;
    let deep: Record<string, unknown> = { password: 'bottom-secret' };
    for (let i = 0; i < 50; i++) deep = { next: deep };

    log.info({ cyclic, deep }, 'odd shapes');

    expect(records()[0]).toMatchObject({ cyclic: { name: 'a', self: '[circular]' } });
    expect(JSON.stringify(records()[0])).not.toContain('bottom-secret');
  });
});
