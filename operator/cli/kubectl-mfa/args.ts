import { parseArgs } from 'node:util';
import { DEFAULT_CODE_SERVICE_AUDIENCE } from '../../codes/audience.ts';
import { CliError } from './cli-error.ts';

export const USAGE = `kubectl mfa — TOTP codes and the audit trail of ManagedAccountMfa resources

Usage:
  kubectl mfa code NAME [-n NAMESPACE] [--once] [--fresh] [-o json] [--direct]
  kubectl mfa recovery-code NAME [-n NAMESPACE] [--json]
  kubectl mfa status NAME [-n NAMESPACE]

code      the account's current code with a countdown (Ctrl-C ends it), from the operator's code
          service. --once prints the code once and exits (for scripts); --fresh asks for a code
          no automated login has used yet (may wait for the next window).
          --direct reads the seed straight from a Kubernetes Secret store with your own access
          (admins with get on secrets); nothing goes through the code service.
recovery-code
          break glass: hands out the account's next unused recovery code, once. It prints the code
          alone on stdout (--json: {code, index, remaining}) and on stderr which one it was and how
          many are left. Every call spends a code, recorded in the resource's status and an Event;
          it needs create on managedaccountmfas/recovery-code. There is no --direct: reading the
          store yourself would skip that record.
status    conditions and run history (newest first) of the resource.

code and recovery-code go through the Kubernetes API server with the kubeconfig alone when it serves
codes.mfa-operator.io/v1alpha1 (the chart's codeService.aggregatedApi) and none of --server, --token and
--service-account is given (nor their variables); otherwise they ask the code service directly.

Flags:
  -n, --namespace NS          namespace (default: the kubeconfig context's, else "default")
      --kubeconfig PATH       kubeconfig (default: $KUBECONFIG, then ~/.kube/config)
      --context NAME          kubeconfig context
      --server URL            code service URL (default: $KUBECTL_MFA_SERVER, then the current cluster's
                              kubeconfig extension "mfa-operator.io/code-service" {server, certificate-authority-data, audience})
      --certificate-authority PATH  CA bundle for the code service (default: $KUBECTL_MFA_CA, the extension, system CAs)
      --token TOKEN           bearer token minted for the audience (default: $KUBECTL_MFA_TOKEN, then the kubeconfig
                              user's token, which the service refuses unless it was minted for the audience)
      --service-account NAME  mint a short-lived token for this ServiceAccount and the code service's audience
                              (like kubectl create token NAME --audience AUDIENCE)
      --audience AUDIENCE     the audience the code service accepts tokens for (default: $KUBECTL_MFA_AUDIENCE, the
                              extension's audience field, then ${DEFAULT_CODE_SERVICE_AUDIENCE})
  -o, --output json           print the whole answer as JSON (code --once, recovery-code)
      --json                  the same as -o json

Exit codes: 0 done; 1 failed or refused (the message says what to do); 2 bad usage; 3 rate-limited or the
service cannot answer now (retry later); 4 the account has no stored recovery codes; 5 all its recovery codes
have been handed out.`;

export interface PluginArgs {
  command: 'code' | 'recovery-code' | 'status' | 'help';
  name?: string;
  namespace?: string;
  kubeconfig?: string;
  context?: string;
  server?: string;
  certificateAuthority?: string;
  token?: string;
  serviceAccount?: string;
  audience?: string;
  once: boolean;
  fresh: boolean;
  direct: boolean;
  json: boolean;
}

const OPTIONS = {
  namespace: { type: 'string', short: 'n' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  server: { type: 'string' },
  'certificate-authority': { type: 'string' },
  token: { type: 'string' },
  'service-account': { type: 'string' },
  audience: { type: 'string' },
  once: { type: 'boolean', default: false },
  fresh: { type: 'boolean', default: false },
  direct: { type: 'boolean', default: false },
  output: { type: 'string', short: 'o' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const HELP: PluginArgs = { command: 'help', once: false, fresh: false, direct: false, json: false };

export function parsePluginArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): PluginArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e: unknown) {
    throw new CliError(`${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`, 2);
  }
  const { values, positionals } = parsed;
  const [command, name, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') return HELP;
  if (!isCommand(command)) throw new CliError(`unknown command "${command}"\n\n${USAGE}`, 2);
  if (!name || rest.length > 0)
    throw new CliError(`kubectl mfa ${command} takes exactly one resource NAME\n\n${USAGE}`, 2);
  checkOutput(values.output);
  if (command === 'recovery-code') checkRecoveryCodeFlags(values);
  return {
    command,
    name,
    namespace: values.namespace,
    kubeconfig: values.kubeconfig,
    context: values.context,
    ...fromFlagOrEnv(values, env),
    serviceAccount: values['service-account'],
    once: values.once,
    fresh: values.fresh,
    direct: values.direct,
    json: values.json || values.output === 'json',
  };
}

const COMMANDS = ['code', 'recovery-code', 'status'] as const;

function isCommand(command: string): command is (typeof COMMANDS)[number] {
  return (COMMANDS as readonly string[]).includes(command);
}

function checkOutput(output: string | undefined): void {
  if (output !== undefined && output !== 'json') throw new CliError('--output accepts only json', 2);
}

/** Flags of `code` that mean nothing for a recovery code, or would bypass its record. */
function checkRecoveryCodeFlags(values: { direct: boolean; once: boolean; fresh: boolean }): void {
  if (values.direct)
    throw new CliError(
      'recovery-code has no --direct: reading the store yourself would skip the record of which codes were handed out, ' +
        'so the next caller could get the same code. Drop --direct; the code service hands out each code once',
      2,
    );
  for (const flag of ['once', 'fresh'] as const)
    if (values[flag])
      throw new CliError(
        `--${flag} is for kubectl mfa code; recovery-code always hands out one code. Drop --${flag}`,
        2,
      );
}

function fromFlagOrEnv(
  values: { server?: string; 'certificate-authority'?: string; token?: string; audience?: string },
  env: NodeJS.ProcessEnv,
) {
  return {
    server: values.server ?? env.KUBECTL_MFA_SERVER,
    audience: values.audience ?? env.KUBECTL_MFA_AUDIENCE,
    certificateAuthority: values['certificate-authority'] ?? env.KUBECTL_MFA_CA,
    token: values.token ?? env.KUBECTL_MFA_TOKEN,
  };
}
