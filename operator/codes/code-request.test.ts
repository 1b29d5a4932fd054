import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { resultOf } from './code-metrics.ts';
import { parseCodeRequest, parseRunRequest } from './code-request.ts';

function get(url: string): IncomingMessage {
  return { method: 'GET', url, headers: {} } as IncomingMessage;
}

function refusal(url: string): unknown {
  try {
    parseCodeRequest(get(url));
  } catch (e: unknown) {
    return e;
  }
  return undefined;
}

describe('parseCodeRequest', () => {
  it('reads namespace, name and purpose from the path and query', () => {
    expect(parseCodeRequest(get('/v1/namespaces/team-a/managedaccountmfas/shared/code?fresh=true'))).toEqual({
      namespace: 'team-a',
      name: 'shared',
      purpose: 'login',
    });
    expect(parseCodeRequest(get('/v1/namespaces/team-a/managedaccountmfas/sh%61red/code'))).toEqual({
      namespace: 'team-a',
      name: 'shared',
      purpose: 'display',
    });
  });

  it('answers a malformed %-escape with BadRequest naming the field, counted as bad_request', () => {
    const inName = refusal('/v1/namespaces/team-a/managedaccountmfas/%E0%A4%A/code');
    const inNamespace = refusal('/v1/namespaces/%zz/managedaccountmfas/shared/code');

    expect(inName).toMatchObject({
      reason: 'BadRequest',
      status: 400,
      message: 'The name in the path has a malformed %-escape.',
    });
    expect(inNamespace).toMatchObject({
      reason: 'BadRequest',
      status: 400,
      message: 'The namespace in the path has a malformed %-escape.',
    });
    expect(resultOf((inName as { reason: 'BadRequest' }).reason)).toBe('bad_request');
  });

  it('answers a request target the URL parser refuses with BadRequest', () => {
    expect(refusal('//[')).toMatchObject({ reason: 'BadRequest', status: 400 });
  });

  it('refuses names the API server would not accept, and other methods', () => {
    expect(refusal('/v1/namespaces/Team_A/managedaccountmfas/shared/code')).toMatchObject({ reason: 'BadRequest' });
    expect(refusal('/v1/namespaces/team-a/managedaccountmfas/%2e%2e/code')).toMatchObject({ reason: 'BadRequest' });
    expect(() => parseCodeRequest({ method: 'POST', url: '/', headers: {} } as IncomingMessage)).toThrow(
      expect.objectContaining({ reason: 'MethodNotAllowed' }),
    );
  });
});

describe('parseRunRequest', () => {
  it("reads a run's code request (one slot) and its slot listing", () => {
    expect(parseRunRequest(get('/v1/namespaces/team-a/runs/acct-rotate-1a2b3c4d/code?slot=pending'))).toEqual({
      namespace: 'team-a',
      job: 'acct-rotate-1a2b3c4d',
      slot: 'pending',
    });
    expect(parseRunRequest(get('/v1/namespaces/team-a/runs/acct-rotate-1a2b3c4d/slots'))).toEqual({
      namespace: 'team-a',
      job: 'acct-rotate-1a2b3c4d',
    });
  });

  it('leaves every other path to the account route', () => {
    expect(parseRunRequest(get('/v1/namespaces/team-a/managedaccountmfas/shared/code'))).toBeUndefined();
  });

  it.each(['', '?slot=', '?slot=history', '?slot=PENDING', '?slot=seed'])(
    'refuses slot %j with BadRequest',
    (query) => {
      expect(() => parseRunRequest(get(`/v1/namespaces/team-a/runs/acct-rotate-1a2b3c4d/code${query}`))).toThrow(
        expect.objectContaining({ reason: 'BadRequest', status: 400 }),
      );
    },
  );

  it('refuses run names the API server would not accept, and other methods', () => {
    expect(() => parseRunRequest(get('/v1/namespaces/team-a/runs/Run_A/code?slot=active'))).toThrow(
      expect.objectContaining({ reason: 'BadRequest' }),
    );
    expect(() =>
      parseRunRequest({ method: 'POST', url: '/v1/namespaces/team-a/runs/r/slots', headers: {} } as IncomingMessage),
    ).toThrow(expect.objectContaining({ reason: 'MethodNotAllowed' }));
  });

  it('parses a recovery code request (POST only), with or without the position the app names', () => {
    const post = (url: string) => ({ method: 'POST', url, headers: {} }) as IncomingMessage;
    const at = '/v1/namespaces/team-a/runs/acct-disable-1/recovery-code';

    expect(parseRunRequest(post(`${at}?index=2`))).toEqual({
      namespace: 'team-a',
      job: 'acct-disable-1',
      recovery: { index: 2 },
    });
    expect(parseRunRequest(post(at))).toEqual({ namespace: 'team-a', job: 'acct-disable-1', recovery: {} });
    for (const index of ['-1', 'abc', '1.5', '', '99999'])
      expect(() => parseRunRequest(post(`${at}?index=${index}`))).toThrow(
        expect.objectContaining({ reason: 'BadRequest' }),
      );
    expect(() => parseRunRequest(get(at))).toThrow(expect.objectContaining({ reason: 'MethodNotAllowed' }));
  });
});
