import type { V1Container, V1EnvVar, V1ObjectFieldSelector, V1Pod } from '@kubernetes/client-node';
import { JobRunnerError } from './errors.ts';

/** Reads Secrets and ConfigMaps for env; undefined when the object does not exist. */
export interface ObjectReader {
  secretData(namespace: string, name: string): Promise<Record<string, Buffer> | undefined>;
  configMapData(namespace: string, name: string): Promise<Record<string, Buffer> | undefined>;
}

/**
 * kubelet's `$(VAR)` expansion (k8s.io/kubernetes third_party/forked/golang/expansion): a defined VAR is
 * replaced, an undefined one is left as written, `$$` is a literal `$`, an unclosed `$(` stays as is.
 */
export function expandReferences(input: string, vars: ReadonlyMap<string, string>): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const { text, advance } = readReference(input.slice(cursor + 1), vars);
    out += text;
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

function readReference(rest: string, vars: ReadonlyMap<string, string>): { text: string; advance: number } {
  const first = String.fromCodePoint(rest.codePointAt(0)!);
  if (first === '$') return { text: '$', advance: 1 };
  if (first !== '(') return { text: `$${first}`, advance: first.length };
  const close = rest.indexOf(')', 1);
  if (close < 0) return { text: '$(', advance: 1 };
  const name = rest.slice(1, close);
  return { text: vars.get(name) ?? `$(${name})`, advance: close + 1 };
}

/** The value of a downward-API field path, for the paths kubelet accepts in env. */
const POD_FIELDS: Record<string, (pod: V1Pod) => string | undefined> = {
  'metadata.name': (pod) => pod.metadata?.name,
  'metadata.namespace': (pod) => pod.metadata?.namespace,
  'metadata.uid': (pod) => pod.metadata?.uid,
  'spec.nodeName': (pod) => pod.spec?.nodeName,
  'spec.serviceAccountName': (pod) => pod.spec?.serviceAccountName,
  'status.hostIP': (pod) => pod.status?.hostIP,
  'status.hostIPs': (pod) => pod.status?.hostIPs?.map((ip) => ip.ip).join(','),
  'status.podIP': (pod) => pod.status?.podIP,
  'status.podIPs': (pod) => pod.status?.podIPs?.map((ip) => ip.ip).join(','),
};

export function podFieldValue(pod: V1Pod, selector: V1ObjectFieldSelector): string {
  const path = selector.fieldPath;
  const subscript = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (subscript) return (subscript[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations)?.[subscript[2]!] ?? '';
  const field = POD_FIELDS[path];
  if (!field) throw new JobRunnerError('CreateContainerConfigError', `env fieldRef ${path} is not supported by the local job runner`);
  return field(pod) ?? '';
}

function readData(reader: ObjectReader, kind: 'Secret' | 'ConfigMap', namespace: string, name = ''): Promise<Record<string, Buffer> | undefined> {
  return kind === 'Secret' ? reader.secretData(namespace, name) : reader.configMapData(namespace, name);
}

async function keyFrom(
  reader: ObjectReader, kind: 'Secret' | 'ConfigMap', namespace: string, ref: { name?: string; key: string; optional?: boolean },
): Promise<string | undefined> {
  const data = await readData(reader, kind, namespace, ref.name);
  const value = data?.[ref.key];
  if (value !== undefined || ref.optional) return value?.toString('utf8');
  const what = data ? `has no key ${ref.key}` : 'not found';
  throw new JobRunnerError('CreateContainerConfigError', `${kind.toLowerCase()} "${ref.name}" ${what}`, true);
}

async function envValue(variable: V1EnvVar, pod: V1Pod, reader: ObjectReader, vars: ReadonlyMap<string, string>): Promise<string | undefined> {
  const namespace = pod.metadata!.namespace!;
  const from = variable.valueFrom;
  if (!from) return expandReferences(variable.value ?? '', vars);
  if (from.fieldRef) return podFieldValue(pod, from.fieldRef);
  if (from.secretKeyRef) return keyFrom(reader, 'Secret', namespace, from.secretKeyRef);
  if (from.configMapKeyRef) return keyFrom(reader, 'ConfigMap', namespace, from.configMapKeyRef);
  throw new JobRunnerError('CreateContainerConfigError', `env ${variable.name}: only value, fieldRef, secretKeyRef and configMapKeyRef are supported locally`);
}

async function envFromSources(container: V1Container, namespace: string, reader: ObjectReader, vars: Map<string, string>): Promise<void> {
  for (const source of container.envFrom ?? []) {
    const ref = source.secretRef ?? source.configMapRef;
    if (!ref) continue;
    const kind = source.secretRef ? 'Secret' : 'ConfigMap';
    const data = await readData(reader, kind, namespace, ref.name);
    if (!data && !ref.optional) throw new JobRunnerError('CreateContainerConfigError', `${kind.toLowerCase()} "${ref.name}" not found`, true);
    for (const [key, value] of Object.entries(data ?? {})) vars.set(`${source.prefix ?? ''}${key}`, value.toString('utf8'));
  }
}

/**
 * The container's environment as kubelet builds it: the runtime's variables first, then envFrom, then env in
 * order, each value expanded against what is defined before it (and the runtime's variables).
 */
export async function containerEnvironment(
  pod: V1Pod, container: V1Container, reader: ObjectReader, runtime: ReadonlyMap<string, string>,
): Promise<Map<string, string>> {
  const declared = new Map<string, string>();
  await envFromSources(container, pod.metadata!.namespace!, reader, declared);
  for (const variable of container.env ?? []) {
    const value = await envValue(variable, pod, reader, new Map([...runtime, ...declared]));
    if (value !== undefined) declared.set(variable.name, value);
  }
  return new Map([...runtime, ...declared]);
}

/** command + args with `$(VAR)` expanded against the final environment. */
export function containerArgv(container: V1Container, env: ReadonlyMap<string, string>): string[] {
  const argv = [...(container.command ?? []), ...(container.args ?? [])].map((part) => expandReferences(part, env));
  if (!container.command?.length) {
    throw new JobRunnerError('StartError', `container ${container.name} has no command: the local job runner does not read the image's entrypoint, so the Job must set command`);
  }
  return argv;
}
