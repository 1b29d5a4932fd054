import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { DEPLOYMENT_HOSTED, DEPLOYMENT_SELECTORS } from '../connectors/index.ts';
import { allowedLoginHostsEnv, parseAllowedLoginHosts } from '../connectors/sdk/deployment-hosts.ts';
import { parseSelectorOverrides, selectorsEnv } from '../connectors/sdk/deployment-selectors.ts';
import { CODE_SERVICE_OPTIONS, CODE_SERVICE_USAGE, codeServiceConfig, type CodeServiceConfig } from './codes/config.ts';

export interface OperatorConfig {
  kubeconfig?: string;
  namespace?: string;
  workers: number;
  httpPort: number;
  resyncMs: number;
  leaderElect: boolean;
  leaseNamespace: string;
  leaseName: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  identity: string;
  runnerImage?: string;
  runnerConfig?: string;
  gcpTestEndpoint?: string;
  /** --allowed-login-hosts, per connector id: the hosts as given (see applyLoginHostFlags). */
  allowedLoginHosts?: Readonly<Record<string, string>>;
  /** Set when --code-service-port is given. */
  codeService?: CodeServiceConfig;
}

const OPTIONS = {
  kubeconfig: { type: 'string' },
  namespace: { type: 'string' },
  workers: { type: 'string', default: '4' },
  'http-port': { type: 'string', default: '8080' },
  'resync-period': { type: 'string', default: '600' },
  'leader-elect': { type: 'boolean', default: true },
  'no-leader-elect': { type: 'boolean', default: false },
  'leader-election-namespace': { type: 'string' },
  'lease-name': { type: 'string', default: 'mfa-operator-leader' },
  'lease-duration': { type: 'string', default: '15' },
  'renew-deadline': { type: 'string', default: '10' },
  'retry-period': { type: 'string', default: '2' },
  identity: { type: 'string' },
  'runner-image': { type: 'string' },
  'runner-config': { type: 'string' },
  'gcp-secret-manager-test-endpoint': { type: 'string' },
  'allowed-login-hosts': { type: 'string', multiple: true },
  ...CODE_SERVICE_OPTIONS,
} as const;

export const USAGE = `mfa-operator controller [flags]
  --kubeconfig PATH               kubeconfig (default: in-cluster, then $KUBECONFIG, then ~/.kube/config)
  --namespace NS                  watch one namespace (default: all)
  --workers N                     concurrent reconciles (default 4)
  --http-port N                   /healthz, /readyz, /metrics (default 8080; 0 picks a free port)
  --resync-period SECONDS         re-check every resource this often (default 600)
  --no-leader-elect               run without a Lease (one replica only)
  --leader-election-namespace NS  where the Lease lives (default $POD_NAMESPACE or "default")
  --lease-name NAME               Lease name (default mfa-operator-leader)
  --lease-duration / --renew-deadline / --retry-period SECONDS   (defaults 15 / 10 / 2)
  --identity ID                   leader identity (default hostname plus a random suffix)
  --runner-image IMAGE            image of the automation Jobs (without it, no automation runs)
  --runner-config FILE            YAML: Job resources, deadlines, node selector, tolerations, concurrency, retries
  --allowed-login-hosts ID=HOSTS  hosts a self-hosted connector's runs may sign in to (repeatable; ID one of
                                  ${DEPLOYMENT_HOSTED.join(', ')}); sets MFA_<ID>_ALLOWED_LOGIN_HOSTS, as the chart does
  --gcp-secret-manager-test-endpoint HOST:PORT   plaintext endpoint of the local test server (tests only)${CODE_SERVICE_USAGE}`;

/** Parses flags; every bad value names the flag and what it accepts. */
export function parseConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false });
  const seconds = (flag: keyof typeof values) => positive(flag, values[flag] as string) * 1000;
  checkSelectorSettings(env);
  return {
    kubeconfig: values.kubeconfig ?? env.KUBECONFIG,
    namespace: values.namespace || undefined,
    workers: positive('workers', values.workers),
    httpPort: nonNegative('http-port', values['http-port']),
    resyncMs: seconds('resync-period'),
    leaderElect: values['leader-elect'] && !values['no-leader-elect'],
    leaseNamespace: values['leader-election-namespace'] ?? env.POD_NAMESPACE ?? 'default',
    leaseName: values['lease-name'],
    leaseDurationMs: seconds('lease-duration'),
    renewDeadlineMs: seconds('renew-deadline'),
    retryPeriodMs: seconds('retry-period'),
    identity: values.identity ?? `${hostname()}-${randomBytes(3).toString('hex')}`,
    runnerImage: values['runner-image'] || env.RUNNER_IMAGE || undefined,
    runnerConfig: values['runner-config'] || undefined,
    gcpTestEndpoint: values['gcp-secret-manager-test-endpoint'] || undefined,
    allowedLoginHosts: loginHostFlags(values['allowed-login-hosts']),
    codeService: codeServiceConfig(values, env),
  };
}

/**
 * The chart's `connectors.<id>.selectors` arrive as variables the controller copies into run Jobs;
 * a bad one stops the controller at start, naming the setting, instead of failing every run.
 */
function checkSelectorSettings(env: NodeJS.ProcessEnv): void {
  for (const [id, names] of Object.entries(DEPLOYMENT_SELECTORS))
    parseSelectorOverrides(id, names, env[selectorsEnv(id)]);
}

function loginHostFlags(flags: readonly string[] = []): Record<string, string> {
  const byConnector: Record<string, string> = {};
  for (const flag of flags) {
    const at = flag.indexOf('=');
    const id = at < 0 ? '' : flag.slice(0, at);
    if (!DEPLOYMENT_HOSTED.includes(id)) {
      throw new Error(
        `--allowed-login-hosts takes ID=HOSTS with ID one of ${DEPLOYMENT_HOSTED.join(', ')}, got "${flag.slice(0, 64)}"`,
      );
    }
    const hosts = parseAllowedLoginHosts(flag.slice(at + 1));
    if (hosts.some((host) => !/^(\*\.)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(host))) {
      throw new Error(
        `--allowed-login-hosts ${id}= takes host names (sso.example.com, *.example.com), without scheme or port`,
      );
    }
    byConnector[id] = hosts.join(',');
  }
  return byConnector;
}

/**
 * The flag is the same setting as the chart's value: the variable the connector reads and the
 * controller copies into its run Jobs. A flag wins over a variable already set.
 */
export function applyLoginHostFlags(
  config: Pick<OperatorConfig, 'allowedLoginHosts'>,
  env: NodeJS.ProcessEnv = process.env,
): void {
  for (const [id, hosts] of Object.entries(config.allowedLoginHosts ?? {})) env[allowedLoginHostsEnv(id)] = hosts;
}

function positive(flag: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${flag} must be a positive number, got "${raw}"`);
  return n;
}

function nonNegative(flag: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${flag} must be a whole number ≥ 0, got "${raw}"`);
  return n;
}
