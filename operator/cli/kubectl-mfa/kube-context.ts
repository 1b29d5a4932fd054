import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { CliError } from './cli-error.ts';

/** The kubeconfig extension on a cluster entry that says where its mfa-operator code service is. */
export const CODE_SERVICE_EXTENSION = 'mfa-operator.io/code-service';

export interface CodeServiceLocation {
  server: string;
  /** PEM CA bundle; undefined means the system's CAs. */
  ca?: string;
  /** The audience its tokens are minted for, when the extension names one. */
  audience?: string;
}

export interface KubeContext {
  kc: KubeConfig;
  namespace: string;
  /** Files the kubeconfig was read from, for the extension lookup. */
  files: string[];
}

function kubeconfigFiles(explicit: string | undefined, env: NodeJS.ProcessEnv): string[] {
  if (explicit) return [explicit];
  if (env.KUBECONFIG) return env.KUBECONFIG.split(delimiter).filter(Boolean);
  return [join(homedir(), '.kube', 'config')];
}

/** Loads the kubeconfig as kubectl would (flag, $KUBECONFIG, ~/.kube/config) with client-node. */
export function loadKubeContext(
  options: { kubeconfig?: string; context?: string; namespace?: string },
  env = process.env,
): KubeContext {
  const kc = new KubeConfig();
  const files = kubeconfigFiles(options.kubeconfig, env);
  try {
    if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
    else kc.loadFromDefault();
  } catch (e: unknown) {
    throw new CliError(
      `cannot read the kubeconfig (${files.join(', ')}): ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  if (options.context) {
    if (!kc.getContextObject(options.context))
      throw new CliError(`there is no context "${options.context}" in the kubeconfig`);
    kc.setCurrentContext(options.context);
  }
  const contextNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace;
  return { kc, namespace: options.namespace ?? contextNamespace ?? 'default', files };
}

/** The current cluster's code-service extension, read from the raw kubeconfig (client-node drops extensions). */
export function codeServiceFromKubeconfig(context: KubeContext): CodeServiceLocation | undefined {
  const clusterName = context.kc.getCurrentCluster()?.name;
  if (!clusterName) return undefined;
  for (const file of context.files) {
    const extension = clusterExtension(file, clusterName);
    if (extension) return extension;
  }
  return undefined;
}

interface RawCluster {
  name?: string;
  cluster?: {
    extensions?: {
      name?: string;
      extension?: { server?: unknown; 'certificate-authority-data'?: unknown; audience?: unknown };
    }[];
  };
}

function clusterExtension(file: string, clusterName: string): CodeServiceLocation | undefined {
  let document: { clusters?: RawCluster[] } | null;
  try {
    document = parse(readFileSync(file, 'utf8')) as { clusters?: RawCluster[] } | null;
  } catch {
    return undefined;
  }
  const extensions = document?.clusters?.find((c) => c.name === clusterName)?.cluster?.extensions;
  const extension = Array.isArray(extensions)
    ? extensions.find((e) => e?.name === CODE_SERVICE_EXTENSION)?.extension
    : undefined;
  if (typeof extension?.server !== 'string') return undefined;
  const caData = extension['certificate-authority-data'];
  return {
    server: extension.server,
    ...(typeof caData === 'string' ? { ca: Buffer.from(caData, 'base64').toString('utf8') } : {}),
    ...(typeof extension.audience === 'string' ? { audience: extension.audience } : {}),
  };
}

/** The kubeconfig user's bearer token (static token, token file or exec plugin), if it has one. */
export async function kubeconfigBearerToken(kc: KubeConfig): Promise<string | undefined> {
  const options: { headers: Record<string, string> } = { headers: {} };
  await kc.applyToHTTPSOptions(options);
  const header = options.headers.Authorization ?? options.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1];
}
