#!/usr/bin/env node
import { parsePluginArgs, USAGE, type PluginArgs } from './kubectl-mfa/args.ts';
import { CliError, isCliError } from './kubectl-mfa/cli-error.ts';
import {
  callerToken,
  codeServiceLocation,
  fetchCode,
  takeRecoveryCode,
  type CodeAnswer,
} from './kubectl-mfa/code-service-client.ts';
import {
  fetchCodeThroughApiServer,
  takeRecoveryCodeThroughApiServer,
  whyApiServerServesNoCodes,
} from './kubectl-mfa/api-server-client.ts';
import { runCountdown } from './kubectl-mfa/countdown.ts';
import { directCode, readManagedAccountMfa } from './kubectl-mfa/direct-code.ts';
import {
  CODE_SERVICE_EXTENSION,
  codeServiceFromKubeconfig,
  loadKubeContext,
  type KubeContext,
} from './kubectl-mfa/kube-context.ts';
import { statusReport } from './kubectl-mfa/status-report.ts';

type Account = { namespace: string; name: string };

/** How this invocation gets codes: from the code service, or (--direct) from the seed Secret. */
async function codeSource(
  args: PluginArgs,
  context: KubeContext,
  account: Account,
): Promise<() => Promise<CodeAnswer>> {
  if (args.direct) {
    if (args.fresh)
      throw new CliError('--fresh needs the code service (it remembers which codes logins used); drop --direct', 2);
    return () => directCode(context, account);
  }
  if (await throughApiServer(args, context)) return () => fetchCodeThroughApiServer(context, account, args.fresh);
  const location = codeServiceLocation(args, context);
  const token = await callerToken(args, context, location);
  return () => fetchCode(location, token, account, args.fresh);
}

/**
 * Flags or variables naming the code service or a token for it mean the direct path; otherwise the API server's
 * aggregated group, when it serves one; otherwise the kubeconfig extension's direct path.
 */
async function throughApiServer(args: PluginArgs, context: KubeContext): Promise<boolean> {
  if (args.server || args.token || args.serviceAccount) return false;
  const why = await whyApiServerServesNoCodes(context);
  if (why === undefined) return true;
  if (codeServiceFromKubeconfig(context)) return false;
  throw new CliError(
    `${why} (the chart's codeService.aggregatedApi.enabled installs its APIService), ` +
      `and no code service is named: pass --server https://HOST:PORT, set KUBECTL_MFA_SERVER, or add the kubeconfig cluster extension "${CODE_SERVICE_EXTENSION}"`,
  );
}

async function showCode(args: PluginArgs, context: KubeContext, account: Account): Promise<void> {
  if (args.fresh && !args.once) throw new CliError('--fresh is for automated logins: use it with --once', 2);
  const next = await codeSource(args, context, account);
  if (args.once) {
    const answer = await next();
    process.stdout.write(args.json ? `${JSON.stringify(answer)}\n` : `${answer.code}\n`);
    return;
  }
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  await runCountdown({ next, out: process.stdout, signal: stop.signal });
}

/** The code alone on stdout (for a paste or a pipe); which one and how many are left on stderr, never the code. */
async function handOutRecoveryCode(args: PluginArgs, context: KubeContext, account: Account): Promise<void> {
  const answer = (await throughApiServer(args, context))
    ? await takeRecoveryCodeThroughApiServer(context, account)
    : await viaCodeService(args, context, account);
  process.stdout.write(args.json ? `${JSON.stringify(answer)}\n` : `${answer.code}\n`);
  process.stderr.write(`recovery code #${answer.index + 1} handed out; ${answer.remaining} left\n`);
}

async function viaCodeService(args: PluginArgs, context: KubeContext, account: Account) {
  const location = codeServiceLocation(args, context);
  return takeRecoveryCode(location, await callerToken(args, context, location), account);
}

async function main(argv: readonly string[]): Promise<number> {
  const args = parsePluginArgs(argv);
  if (args.command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const context = loadKubeContext(args);
  const account = { namespace: context.namespace, name: args.name! };
  if (args.command === 'status') {
    const mfa = await readManagedAccountMfa(context, account);
    process.stdout.write(args.json ? `${JSON.stringify(mfa.status ?? {}, null, 2)}\n` : statusReport(mfa));
    return 0;
  }
  if (args.command === 'recovery-code') {
    await handOutRecoveryCode(args, context, account);
    return 0;
  }
  await showCode(args, context, account);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(isCliError(e) ? e.exitCode : 1);
  },
);
