import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { frontProxyCaller, readFrontProxyTrust, type FrontProxyTrust } from './front-proxy.ts';

const TRUST: FrontProxyTrust = {
  clientCa: 'PEM',
  allowedNames: ['front-proxy-client'],
  usernameHeaders: ['X-Remote-User'],
  uidHeaders: ['X-Remote-Uid'],
  groupHeaders: ['X-Remote-Group'],
  extraHeaderPrefixes: ['X-Remote-Extra-'],
};

/** A request as node:https hands it over: the TLS verdict on the socket, each header line kept apart. */
function request(headers: Record<string, string[]>, tls: { authorized: boolean; cn?: string }): IncomingMessage {
  return {
    socket: { authorized: tls.authorized, getPeerCertificate: () => ({ subject: { CN: tls.cn } }) },
    headersDistinct: headers,
  } as unknown as IncomingMessage;
}

describe('frontProxyCaller', () => {
  it('takes user, uid, every group line and the extra headers from a verified proxy connection', () => {
    const req = request(
      {
        'x-remote-user': ['alice'],
        'x-remote-uid': ['u-1'],
        'x-remote-group': ['team, with comma', 'system:authenticated'],
        'x-remote-extra-scopes': ['a', 'b'],
        'x-remote-extra-authentication.kubernetes.io%2fpod-uid': ['p-1'],
      },
      { authorized: true, cn: 'front-proxy-client' },
    );

    expect(frontProxyCaller(req, TRUST)).toEqual({
      username: 'alice',
      uid: 'u-1',
      groups: ['team, with comma', 'system:authenticated'],
      extra: { scopes: ['a', 'b'], 'authentication.kubernetes.io/pod-uid': ['p-1'] },
    });
  });

  it.each([
    [
      'no certificate the requestheader CA signed',
      { authorized: false, cn: 'front-proxy-client' },
      /no client certificate/,
    ],
    [
      'a certificate for a name not allowed',
      { authorized: true, cn: 'admin' },
      /not one of --requestheader-allowed-names/,
    ],
  ])('refuses forged X-Remote-* headers with %s', (_case, tls, why) => {
    const req = request({ 'x-remote-user': ['alice'], 'x-remote-group': ['system:masters'] }, tls);

    expect(() => frontProxyCaller(req, TRUST)).toThrow(why);
  });

  it('accepts any certificate the CA signed when no allowed names are configured, as kube-apiserver does', () => {
    const req = request({ 'x-remote-user': ['bob'] }, { authorized: true, cn: 'anything' });

    expect(frontProxyCaller(req, { ...TRUST, allowedNames: [] }).username).toBe('bob');
  });

  it('refuses a verified proxy request without a user, and a malformed extra header name', () => {
    const verified = { authorized: true, cn: 'front-proxy-client' };

    expect(() => frontProxyCaller(request({}, verified), TRUST)).toThrow(/sent no user/);
    expect(() =>
      frontProxyCaller(request({ 'x-remote-user': ['a'], 'x-remote-extra-%zz': ['x'] }, verified), TRUST),
    ).toThrow(/malformed %-escape/);
  });
});

describe('readFrontProxyTrust', () => {
  const configMap = (data: Record<string, string>) => ({ readNamespacedConfigMap: async () => ({ data }) });

  it('reads the CA, the allowed names and the header lists kube-apiserver publishes', async () => {
    const trust = await readFrontProxyTrust(
      configMap({
        'requestheader-client-ca-file': 'PEM',
        'requestheader-allowed-names': '["front-proxy-client"]',
        'requestheader-username-headers': '["X-Remote-User"]',
        'requestheader-group-headers': '["X-Remote-Group"]',
        'requestheader-extra-headers-prefix': '["X-Remote-Extra-"]',
      }) as never,
    );

    expect(trust).toEqual({ ...TRUST, uidHeaders: [] });
  });

  it('says what to do when the ConfigMap cannot be read or names no requestheader CA', async () => {
    const unreadable = { readNamespacedConfigMap: async () => Promise.reject(new Error('403')) };

    await expect(readFrontProxyTrust(unreadable as never)).rejects.toThrow(/extension-apiserver-authentication-reader/);
    await expect(readFrontProxyTrust(configMap({}) as never)).rejects.toThrow(/--requestheader-client-ca-file/);
  });
});
