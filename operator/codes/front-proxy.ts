import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { CoreV1Api } from '@kubernetes/client-node';
import type { Caller } from './caller-review.ts';
import { CodeServiceError } from './code-errors.ts';

/**
 * How kube-apiserver's front proxy (its aggregator) vouches for a user: a client certificate signed by the
 * requestheader CA, with a common name in the allowed names, and the user in request headers. kube-apiserver
 * publishes this in the `extension-apiserver-authentication` ConfigMap, as every aggregated API server reads it.
 */
export interface FrontProxyTrust {
  /** PEM of `--requestheader-client-ca-file`. */
  readonly clientCa: string;
  /** `--requestheader-allowed-names`; empty allows any certificate the CA signed (kube-apiserver's rule too). */
  readonly allowedNames: readonly string[];
  readonly usernameHeaders: readonly string[];
  readonly uidHeaders: readonly string[];
  readonly groupHeaders: readonly string[];
  readonly extraHeaderPrefixes: readonly string[];
}

export const AUTHENTICATION_CONFIGMAP = { namespace: 'kube-system', name: 'extension-apiserver-authentication' };

/** Reads the front proxy's trust from the ConfigMap kube-apiserver keeps; refuses to start without it. */
export async function readFrontProxyTrust(core: Pick<CoreV1Api, 'readNamespacedConfigMap'>): Promise<FrontProxyTrust> {
  const { namespace, name } = AUTHENTICATION_CONFIGMAP;
  let data: Record<string, string>;
  try {
    data = (await core.readNamespacedConfigMap({ namespace, name })).data ?? {};
  } catch {
    throw new Error(
      `cannot read ConfigMap ${namespace}/${name}: the operator needs get on it (a RoleBinding in ${namespace} to the Role extension-apiserver-authentication-reader)`,
    );
  }
  const clientCa = data['requestheader-client-ca-file'];
  if (!clientCa) {
    throw new Error(
      `ConfigMap ${namespace}/${name} has no requestheader-client-ca-file: kube-apiserver runs without --requestheader-client-ca-file, so it cannot serve aggregated APIs; turn --code-service-aggregated-port off or configure the front proxy`,
    );
  }
  return {
    clientCa,
    allowedNames: jsonList(data, 'requestheader-allowed-names'),
    usernameHeaders: jsonList(data, 'requestheader-username-headers'),
    uidHeaders: jsonList(data, 'requestheader-uid-headers'),
    groupHeaders: jsonList(data, 'requestheader-group-headers'),
    extraHeaderPrefixes: jsonList(data, 'requestheader-extra-headers-prefix'),
  };
}

function jsonList(data: Record<string, string>, key: string): string[] {
  const raw = data[key];
  if (!raw) return [];
  const parsed: unknown = JSON.parse(raw);
  if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === 'string'))
    throw new Error(`${AUTHENTICATION_CONFIGMAP.name}: ${key} is not a JSON list of strings`);
  return parsed;
}

/**
 * The user kube-apiserver authenticated, from the X-Remote-* headers, but only on a connection whose client
 * certificate the requestheader CA signed for an allowed name: anyone else sending those headers is refused.
 */
export function frontProxyCaller(req: IncomingMessage, trust: FrontProxyTrust): Caller {
  verifiedProxy(req, trust);
  const username = firstHeader(req, trust.usernameHeaders);
  if (!username) throw refused('the front proxy sent no user');
  const uid = firstHeader(req, trust.uidHeaders);
  const groups = trust.groupHeaders.flatMap((h) => headerValues(req, h));
  const extra = extraOf(req, trust.extraHeaderPrefixes);
  return { username, groups, ...(uid ? { uid } : {}), ...(Object.keys(extra).length ? { extra } : {}) };
}

/** Throws Unauthenticated unless the TLS client certificate is the front proxy's. */
export function verifiedProxy(req: IncomingMessage, trust: FrontProxyTrust): void {
  const socket = req.socket as TLSSocket;
  if (!socket.authorized) throw refused('no client certificate signed by the requestheader CA was presented');
  const cn = socket.getPeerCertificate().subject?.CN;
  const names = Array.isArray(cn) ? cn : [cn];
  if (trust.allowedNames.length > 0 && !names.some((n) => n !== undefined && trust.allowedNames.includes(n)))
    throw refused('the client certificate is not one of --requestheader-allowed-names');
}

function refused(why: string): CodeServiceError {
  return new CodeServiceError(
    'Unauthenticated',
    `Not authenticated: ${why}. This port serves kube-apiserver only: ask through the API server ` +
      `(kubectl mfa code NAME, or kubectl create --raw /apis/codes.mfa-operator.io/v1alpha1/namespaces/NAMESPACE/managedaccountmfas/NAME/code -f -).`,
  );
}

/** Each header line on its own (req.headers joins repeated ones with commas, which a group name may hold). */
function headerValues(req: IncomingMessage, name: string): string[] {
  return req.headersDistinct[name.toLowerCase()] ?? [];
}

function firstHeader(req: IncomingMessage, names: readonly string[]): string | undefined {
  for (const name of names) {
    const [value] = headerValues(req, name);
    if (value) return value;
  }
  return undefined;
}

/** `X-Remote-Extra-<key>` headers; the key is %-escaped and case-insensitive, as kube-apiserver sends it. */
function extraOf(req: IncomingMessage, prefixes: readonly string[]): Record<string, string[]> {
  const extra: Record<string, string[]> = {};
  for (const [header, values] of Object.entries(req.headersDistinct)) {
    const prefix = prefixes.find((p) => header.startsWith(p.toLowerCase()));
    if (!prefix || values === undefined) continue;
    const key = extraKey(header.slice(prefix.length));
    extra[key] = [...(extra[key] ?? []), ...values];
  }
  return extra;
}

function extraKey(escaped: string): string {
  try {
    return decodeURIComponent(escaped).toLowerCase();
  } catch {
    throw new CodeServiceError('BadRequest', 'An X-Remote-Extra- header name has a malformed %-escape.');
  }
}
