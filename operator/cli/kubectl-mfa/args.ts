import { parseArgs } from 'node:util';
import { DEFAULT_CODE_SERVICE_AUDIENCE } from '../../codes/audience.ts';
import { CliError } from './cli-error.ts';

export const USAGE = `kubectl mfa — TOTP codes and the audit trail of ManagedAccountMfa resources

Usage:
  kubectl mfa code NAME [-n NAMESPACE] [--once] [--fresh] [-o json] [--direct]
  kubectl mfa status NAME [-n NAMESPACE]

code      the account's current code with a countdown (Ctrl-C ends it), from the operator's code
          service. --once prints the code once and exits (for scripts); --fresh asks for a code
          no automated login has used yet (may wait for the next window).
          --direct reads the seed straight from a Kubernetes Secret store with your own access
          (admins with get on secrets); nothing goes through the code service.
status    conditions and run history (newest first) of the resource.

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
  -o, --output json           print the whole answer as JSON (with --once)`;

export interface PluginArgs {
  command: 'code' | 'status' | 'help';
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
  if (command !== 'code' && command !== 'status') throw new CliError(`unknown command "${command}"\n\n${USAGE}`, 2);
  if (!name || rest.length > 0)
    throw new CliError(`kubectl mfa ${command} takes exactly one resource NAME\n\n${USAGE}`, 2);
  checkOutput(values.output);
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
    json: values.output === 'json',
  };
}

function checkOutput(output: string | undefined): void {
  if (output !== undefined && output !== 'json') throw new CliError('--output accepts only json', 2);
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
