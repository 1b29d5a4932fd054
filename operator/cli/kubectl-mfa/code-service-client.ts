import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { CoreV1Api } from '@kubernetes/client-node';
import { DEFAULT_CODE_SERVICE_AUDIENCE } from '../../codes/audience.ts';
import type { PluginArgs } from './args.ts';
import { CliError, EXIT } from './cli-error.ts';
import {
  CODE_SERVICE_EXTENSION,
  codeServiceFromKubeconfig,
  kubeconfigBearerToken,
  type CodeServiceLocation,
  type KubeContext,
} from './kube-context.ts';

/** The code service's answer; the code is shown to the user, which is the point of asking. */
export interface CodeAnswer {
  code: string;
  secondsRemaining: number;
  period: number;
  digits: number;
  algorithm: string;
}

/** The code service's answer to a recovery code request: the code, its position (from 0), and how many are left. */
export interface RecoveryCodeAnswer {
  code: string;
  index: number;
  remaining: number;
}

/** A fresh login code may wait for the next window (up to about one period) on the server. */
const REQUEST_TIMEOUT_MS = 90_000;
const MINTED_TOKEN_SECONDS = 600;

export function codeServiceLocation(args: PluginArgs, context: KubeContext): CodeServiceLocation {
  const fromFlags = {
    ...(args.certificateAuthority ? { ca: readCa(args.certificateAuthority) } : {}),
    ...(args.audience ? { audience: args.audience } : {}),
  };
  if (args.server) return { server: args.server, ...fromFlags };
  const fromKubeconfig = codeServiceFromKubeconfig(context);
  if (fromKubeconfig) return { ...fromKubeconfig, ...fromFlags };
  throw new CliError(
    `no code service address: pass --server https://HOST:PORT, set KUBECTL_MFA_SERVER, or add the kubeconfig cluster extension "${CODE_SERVICE_EXTENSION}" with a server field`,
  );
}

function readCa(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new CliError(`cannot read the certificate authority file ${path}`);
  }
}

/**
 * --token, else a token minted for --service-account and the service's audience, else the
 * kubeconfig user's own bearer token (accepted only if it was minted for that audience).
 */
export async function callerToken(
  args: PluginArgs,
  context: KubeContext,
  location: CodeServiceLocation,
): Promise<string> {
  if (args.token) return args.token;
  if (args.serviceAccount)
    return mintServiceAccountToken(context, args.serviceAccount, location.audience ?? DEFAULT_CODE_SERVICE_AUDIENCE);
  const token = await kubeconfigBearerToken(context.kc);
  if (token) return token;
  const user = context.kc.getCurrentUser()?.name ?? '(none)';
  throw new CliError(
    `kubeconfig user "${user}" has no bearer token (client certificates cannot be checked by the code service); ` +
      `pass --service-account SERVICEACCOUNT, or --token "$(kubectl create token SERVICEACCOUNT --audience ${location.audience ?? DEFAULT_CODE_SERVICE_AUDIENCE})"`,
  );
}

async function mintServiceAccountToken(
  context: KubeContext,
  serviceAccount: string,
  audience: string,
): Promise<string> {
  try {
    // Minted for the code service alone: the API server refuses it, so a leaked copy opens nothing else.
    const answer = await context.kc.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
      name: serviceAccount,
      namespace: context.namespace,
      body: { spec: { audiences: [audience], expirationSeconds: MINTED_TOKEN_SECONDS } },
    });
    if (answer.status?.token) return answer.status.token;
  } catch (e: unknown) {
    const code = (e as { code?: number }).code;
    if (code === 403)
      throw new CliError(
        `you need create on serviceaccounts/token in namespace ${context.namespace} to use --service-account`,
      );
    if (code === 404)
      throw new CliError(`there is no ServiceAccount ${serviceAccount} in namespace ${context.namespace}`);
  }
  throw new CliError(`could not create a token for ServiceAccount ${context.namespace}/${serviceAccount}`);
}

export interface RawAnswer {
  status: number;
  body: string;
  retryAfter?: string;
}

/** One request to the code service, with the caller's token and the location's CA; any status is resolved. */
function call(
  location: CodeServiceLocation,
  path: string,
  token: string,
  method: 'GET' | 'POST' = 'GET',
): Promise<RawAnswer> {
  const url = new URL(path, location.server.endsWith('/') ? location.server : `${location.server}/`);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        ...(location.ca ? { ca: location.ca } : {}),
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, retryAfter: res.headers['retry-after'] }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
    req.on('error', (e) =>
      reject(
        new CliError(
          `cannot reach the code service at ${location.server}: ${e.message}; check --server or KUBECTL_MFA_SERVER` +
            // A POST may have been recorded before the connection failed: that code is spent, never handed out again.
            (method === 'POST' ? ' (a hand-out recorded before the failure shows in kubectl mfa status)' : ''),
        ),
      ),
    );
    req.end();
  });
}

export async function fetchCode(
  location: CodeServiceLocation,
  token: string,
  account: { namespace: string; name: string },
  fresh: boolean,
): Promise<CodeAnswer> {
  const answer = await call(location, `${accountPath(account)}/code${fresh ? '?fresh=true' : ''}`, token);
  if (answer.status === 200) return JSON.parse(answer.body) as CodeAnswer;
  throw refusal(answer, account);
}

/**
 * Takes the next unused recovery code. The service records the hand-out before it answers, so every call spends a
 * code: nothing here retries.
 */
export async function takeRecoveryCode(
  location: CodeServiceLocation,
  token: string,
  account: { namespace: string; name: string },
): Promise<RecoveryCodeAnswer> {
  const answer = await call(location, `${accountPath(account)}/recovery-code`, token, 'POST');
  if (answer.status === 200) return JSON.parse(answer.body) as RecoveryCodeAnswer;
  throw recoveryRefusal(answer, account);
}

function accountPath(account: { namespace: string; name: string }): string {
  return `v1/namespaces/${encodeURIComponent(account.namespace)}/managedaccountmfas/${encodeURIComponent(account.name)}`;
}

/** The refusal's reason and message (the service's error body names objects, never a code). */
function explained(answer: RawAnswer): { reason: string; message: string } {
  try {
    const body = JSON.parse(answer.body) as { reason?: unknown; message?: unknown };
    return { reason: String(body.reason ?? ''), message: String(body.message ?? '') };
  } catch {
    return { reason: '', message: answer.body.slice(0, 200) };
  }
}

/**
 * Which way the request went: straight to the code service (group mfa-operator.io, `get` on codes) or through the
 * API server (group codes.mfa-operator.io, `create`), so a 403 names the rule that path needs.
 */
export type CodePath = 'code-service' | 'api-server';

const RULE = {
  'code-service': { code: 'get on managedaccountmfas/code', recovery: 'create on managedaccountmfas/recovery-code' },
  'api-server': {
    code: 'create on managedaccountmfas/code in API group codes.mfa-operator.io',
    recovery: 'create on managedaccountmfas/recovery-code in API group codes.mfa-operator.io',
  },
} as const;

export function recoveryRefusal(
  answer: RawAnswer,
  account: { namespace: string; name: string },
  path: CodePath = 'code-service',
): CliError {
  const { reason, message } = explained(answer);
  if (answer.status === 403)
    return new CliError(
      `you need ${RULE[path].recovery} in namespace ${account.namespace} (for ${account.name}); ask an admin for a Role and RoleBinding granting it (docs/operations.md, "Recovery codes")`,
    );
  if (answer.status === 404 && reason === 'NoRecoveryCodes') return new CliError(message, EXIT.noRecoveryCodes);
  if (answer.status === 410) return new CliError(message, EXIT.recoveryCodesUsedUp);
  return refusal(answer, account, path);
}

export function refusal(
  answer: RawAnswer,
  account: { namespace: string; name: string },
  path: CodePath = 'code-service',
): CliError {
  const { message } = explained(answer);
  switch (answer.status) {
    case 401:
      return new CliError(
        path === 'api-server'
          ? `the API server did not accept your kubeconfig's credentials (401): ${message}`
          : `the code service did not accept your token (401): ${message}`,
      );
    case 403:
      return new CliError(
        `you need ${RULE[path].code} in namespace ${account.namespace} (for ${account.name}); ask an admin for a RoleBinding to the mfa-operator-code-reader ClusterRole`,
      );
    case 404:
      return new CliError(message || `there is no ManagedAccountMfa ${account.name} in namespace ${account.namespace}`);
    case 429:
      return new CliError(`too many code requests; retry in ${answer.retryAfter ?? 'a few'} s`, EXIT.retryLater);
    case 503:
      return new CliError(`the code service cannot answer now (503): ${message}`, EXIT.retryLater);
    default:
      return new CliError(`the code service answered ${answer.status}: ${message}`);
  }
}
