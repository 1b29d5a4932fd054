import { request, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { aggregatedAccountPath, AGGREGATED_GROUP_VERSION } from '../../codes/aggregated-group.ts';
import { CliError, EXIT } from './cli-error.ts';
import {
  recoveryRefusal,
  refusal,
  type CodeAnswer,
  type RawAnswer,
  type RecoveryCodeAnswer,
} from './code-service-client.ts';
import type { KubeContext } from './kube-context.ts';

/** A fresh login code may wait for the next window (up to about one period) behind the API server too. */
const REQUEST_TIMEOUT_MS = 90_000;

type Account = { namespace: string; name: string };

/**
 * Whether the API server serves the code service's aggregated group (an APIService, codes.mfa-operator.io) to
 * this kubeconfig: then codes need nothing but the kubeconfig, and every request is in the API server's audit log.
 * Undefined when it does: otherwise why not (no such group, or the kubeconfig's credentials are not the API
 * server's, as a token minted for the code service's audience is not).
 */
export async function whyApiServerServesNoCodes(context: KubeContext): Promise<string | undefined> {
  const answer = await call(context.kc, 'GET', `/apis/${AGGREGATED_GROUP_VERSION}`);
  if (answer.status === 200) return undefined;
  if (answer.status === 404) return `the API server does not serve ${AGGREGATED_GROUP_VERSION}`;
  if (answer.status === 401 || answer.status === 403)
    return `the API server did not accept your kubeconfig's credentials (${answer.status})`;
  throw new CliError(
    `the API server could not list ${AGGREGATED_GROUP_VERSION} (${answer.status}): ${statusMessage(answer.body)}; ` +
      `check kubectl get apiservice v1alpha1.codes.mfa-operator.io, or pass --server to ask the code service directly`,
    answer.status === 503 ? EXIT.retryLater : EXIT.failed,
  );
}

export async function fetchCodeThroughApiServer(
  context: KubeContext,
  account: Account,
  fresh: boolean,
): Promise<CodeAnswer> {
  const path = `${aggregatedAccountPath(account, 'code')}${fresh ? '?fresh=true' : ''}`;
  const answer = await call(context.kc, 'POST', path, '{}');
  if (answer.status === 201) {
    const { code, secondsRemaining, period, digits, algorithm } = JSON.parse(answer.body) as CodeAnswer;
    return { code, secondsRemaining, period, digits, algorithm };
  }
  throw refusal(plain(answer), account, 'api-server');
}

/** One POST spends one code (the service claims it before answering): nothing here retries. */
export async function takeRecoveryCodeThroughApiServer(
  context: KubeContext,
  account: Account,
): Promise<RecoveryCodeAnswer> {
  const answer = await call(context.kc, 'POST', aggregatedAccountPath(account, 'recovery-code'), '{}');
  if (answer.status === 201) {
    const { code, index, remaining } = JSON.parse(answer.body) as RecoveryCodeAnswer;
    return { code, index, remaining };
  }
  throw recoveryRefusal(plain(answer), account, 'api-server');
}

/** A Status as the code service's own error body: its reason (details.causes) and message. */
function plain(answer: RawAnswer): RawAnswer {
  try {
    const status = JSON.parse(answer.body) as {
      reason?: string;
      message?: string;
      details?: { causes?: { reason?: string }[] };
    };
    const reason = status.details?.causes?.[0]?.reason ?? status.reason ?? '';
    return { ...answer, body: JSON.stringify({ reason, message: status.message ?? '' }) };
  } catch {
    return answer;
  }
}

function statusMessage(body: string): string {
  try {
    return String((JSON.parse(body) as { message?: unknown }).message ?? '');
  } catch {
    return body.slice(0, 200);
  }
}

/** One request to the API server with the kubeconfig's own credentials (certificate, token or exec plugin). */
async function call(kc: KubeConfig, method: 'GET' | 'POST', path: string, body?: string): Promise<RawAnswer> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new CliError('the kubeconfig has no current cluster; pass --context or --kubeconfig');
  const options: RequestOptions & { headers: Record<string, string> } = {
    method,
    headers: { accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
    timeout: REQUEST_TIMEOUT_MS,
  };
  await kc.applyToHTTPSOptions(options);
  const url = new URL(path, cluster.server.endsWith('/') ? cluster.server : `${cluster.server}/`);
  return new Promise((resolve, reject) => {
    const req = request(url, options, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, retryAfter: res.headers['retry-after'] }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
    req.on('error', (e) =>
      reject(
        new CliError(
          `cannot reach the API server at ${cluster.server}: ${e.message}` +
            (method === 'POST' ? ' (a hand-out recorded before the failure shows in kubectl mfa status)' : ''),
        ),
      ),
    );
    req.end(body);
  });
}
