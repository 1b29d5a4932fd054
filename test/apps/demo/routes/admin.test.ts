import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { SecretValue } from '../../../../core/secrets/secret-value.ts';
import { mayAdminister } from './admin.ts';

function request(remoteAddress: string, authorization?: string): IncomingMessage {
  return {
    socket: { remoteAddress },
    headers: authorization === undefined ? {} : { authorization },
  } as unknown as IncomingMessage;
}

describe('who may use the demo app admin API', () => {
  const token = new SecretValue('admin-token-1');

  it('answers loopback clients, with or without a token configured', () => {
    expect(mayAdminister(request('127.0.0.1'), undefined)).toBe(true);
    expect(mayAdminister(request('::ffff:127.0.0.1'), token)).toBe(true);
  });

  it('answers a client off loopback only with the configured token', () => {
    expect(mayAdminister(request('198.18.64.7', 'Bearer admin-token-1'), token)).toBe(true);
    expect(mayAdminister(request('198.18.64.7', 'Bearer admin-token-2'), token)).toBe(false);
    expect(mayAdminister(request('198.18.64.7', 'admin-token-1'), token)).toBe(false);
    expect(mayAdminister(request('198.18.64.7'), token)).toBe(false);
  });

  it('refuses every client off loopback when no token is configured, whatever it sends', () => {
    expect(mayAdminister(request('198.18.64.7', 'Bearer '), undefined)).toBe(false);
    expect(mayAdminister(request('198.18.64.7', 'Bearer anything'), undefined)).toBe(false);
  });
});
