import type { V1Container, V1KeyToPath, V1Pod, V1Volume } from '@kubernetes/client-node';
import { chmod, mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { ObjectReader } from './container-env.ts';
import { JobRunnerError } from './errors.ts';
import type { PlannedMount } from './mount-plan.ts';

/** Where client-node's (and every client's) in-cluster configuration looks for the service account. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const SERVICE_ACCOUNT_VOLUME = 'kube-api-access-local';

export interface VolumeSources {
  reader: ObjectReader;
  /** A bound token for the pod's service account, or undefined when no token is mounted. */
  serviceAccountToken?: () => Promise<string>;
  /** A bound token of the pod's service account for a projected volume's audience; undefined when the pod names none. */
  projectedToken?: (audience: string | undefined, expirationSeconds: number | undefined) => Promise<string>;
  /** The API server's serving CA (PEM), written as ca.crt. */
  caCertificate: string;
}

export interface PreparedVolumes {
  mounts: PlannedMount[];
  /** Writes a fresh token where the pod reads it (kubelet rotates at 80% of the lifetime). */
  refreshToken?: () => Promise<void>;
}

async function writeFiles(dir: string, files: ReadonlyArray<{ path: string; data: Buffer | string; mode: number }>): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  for (const file of files) {
    if (posix.isAbsolute(file.path) || file.path.split('/').includes('..')) {
      throw new JobRunnerError('FailedMount', `volume file path ${file.path} must be relative without ..`);
    }
    const target = join(dir, file.path);
    await mkdir(dirname(target), { recursive: true, mode: 0o755 });
    await writeFile(`${target}.tmp`, file.data, { mode: file.mode });
    await chmod(`${target}.tmp`, file.mode);
    await rename(`${target}.tmp`, target);
  }
}

function selectKeys(
  volume: string, what: string, data: Record<string, Buffer>, items: V1KeyToPath[] | undefined, mode: number, optional: boolean,
): Array<{ path: string; data: Buffer; mode: number }> {
  if (!items) return Object.entries(data).map(([key, value]) => ({ path: key, data: value, mode }));
  return items.flatMap((item) => {
    const value = data[item.key];
    if (value !== undefined) return [{ path: item.path, data: value, mode: item.mode ?? mode }];
    if (optional) return [];
    throw new JobRunnerError('FailedMount', `MountVolume.SetUp failed for volume "${volume}" : couldn't find key ${item.key} in ${what}`, true);
  });
}

interface ApiDataSource {
  kind: 'secret' | 'configmap';
  name: string;
  items?: V1KeyToPath[];
  defaultMode: number;
  optional: boolean;
}

function apiDataSource(volume: V1Volume): ApiDataSource {
  const { secret, configMap } = volume;
  const source = secret ?? configMap;
  if (!source) {
    throw new JobRunnerError('FailedMount', `volume "${volume.name}": only emptyDir, secret and configMap volumes (and the service account token) are supported by the local job runner`);
  }
  return {
    kind: secret ? 'secret' : 'configmap', name: secret ? secret.secretName ?? '' : configMap?.name ?? '',
    items: source.items, defaultMode: source.defaultMode ?? 0o644, optional: source.optional ?? false,
  };
}

/** A projected volume of service account tokens (the only projection the local job runner supports), as kubelet writes it. */
async function materializeProjected(volume: V1Volume, dir: string, sources: VolumeSources): Promise<void> {
  const projected = volume.projected!;
  const files = [];
  for (const source of projected.sources ?? []) {
    const token = source.serviceAccountToken;
    if (!token || !sources.projectedToken) {
      throw new JobRunnerError('FailedMount', `volume "${volume.name}": the local job runner projects only serviceAccountToken sources, for a pod with a service account`);
    }
    files.push({ path: token.path, data: await sources.projectedToken(token.audience, token.expirationSeconds), mode: projected.defaultMode ?? 0o644 });
  }
  await writeFiles(dir, files);
}

async function materialize(volume: V1Volume, dir: string, pod: V1Pod, sources: VolumeSources): Promise<void> {
  const namespace = pod.metadata!.namespace!;
  if (volume.emptyDir) {
    await mkdir(dir, { recursive: true });
    await chmod(dir, 0o777);
    return;
  }
  if (volume.projected) return materializeProjected(volume, dir, sources);
  const source = apiDataSource(volume);
  const data = source.kind === 'secret' ? await sources.reader.secretData(namespace, source.name) : await sources.reader.configMapData(namespace, source.name);
  if (!data && !source.optional) {
    throw new JobRunnerError('FailedMount', `MountVolume.SetUp failed for volume "${volume.name}" : ${source.kind} "${source.name}" not found`, true);
  }
  const files = selectKeys(volume.name, `${source.kind} ${namespace}/${source.name}`, data ?? {}, source.items, source.defaultMode, source.optional);
  await writeFiles(dir, files);
}

async function mountFor(podDir: string, volumeName: string, mountPath: string, subPath: string | undefined, readOnly: boolean): Promise<PlannedMount> {
  if (subPath && (posix.isAbsolute(subPath) || subPath.split('/').includes('..'))) {
    throw new JobRunnerError('StartError', `subPath ${subPath} must be relative without ..`);
  }
  const source = posix.join('volumes', volumeName, subPath ?? '');
  const isFile = subPath ? (await stat(join(podDir, source)).catch(() => undefined))?.isFile() ?? false : false;
  return { kind: isFile ? 'file' : 'dir', source, target: mountPath, readOnly };
}

/**
 * Writes each volume the container mounts into the pod's host directory, as kubelet does under
 * /var/lib/kubelet/pods/<uid>/volumes, and returns the bind mounts that put them at their container paths.
 * API data volumes (secret, configMap, the token) are read-only, as in kubelet.
 */
export async function prepareVolumes(pod: V1Pod, container: V1Container, podDir: string, sources: VolumeSources): Promise<PreparedVolumes> {
  const volumes = new Map((pod.spec?.volumes ?? []).map((v) => [v.name, v]));
  const mounts: PlannedMount[] = [];
  for (const volumeMount of container.volumeMounts ?? []) {
    const volume = volumes.get(volumeMount.name);
    if (!volume) throw new JobRunnerError('StartError', `volumeMount ${volumeMount.name} names no volume of the pod`);
    await materialize(volume, join(podDir, 'volumes', volume.name), pod, sources);
    const apiData = Boolean(volume.secret ?? volume.configMap ?? volume.projected);
    mounts.push(await mountFor(podDir, volume.name, volumeMount.mountPath, volumeMount.subPath, apiData || Boolean(volumeMount.readOnly)));
  }
  const tokenSource = sources.serviceAccountToken;
  if (!tokenSource || mounts.some((m) => m.target === SERVICE_ACCOUNT_DIR)) return { mounts };
  const dir = join(podDir, 'volumes', SERVICE_ACCOUNT_VOLUME);
  const refreshToken = async () => writeFiles(dir, [{ path: 'token', data: await tokenSource(), mode: 0o644 }]);
  await refreshToken();
  await writeFiles(dir, [
    { path: 'ca.crt', data: sources.caCertificate, mode: 0o644 },
    { path: 'namespace', data: pod.metadata!.namespace!, mode: 0o644 },
  ]);
  mounts.push({ kind: 'dir', source: posix.join('volumes', SERVICE_ACCOUNT_VOLUME), target: SERVICE_ACCOUNT_DIR, readOnly: true });
  return { mounts, refreshToken };
}
