import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { sleep } from '../../../operator/controller/runtime/backoff.ts';
import { containerArgv, containerEnvironment } from './container-env.ts';
import { describeError, JobRunnerError } from './errors.ts';
import { isInsideMounts, orderMounts, preludeArgv, type PlannedMount } from './mount-plan.ts';
import { running, terminated, waiting, type PodPhase, type ReportedContainer, type Termination } from './pod-status.ts';
import { containerExitCode, signalSandbox, spawnInSandbox, type SandboxMode } from './sandbox.ts';
import { prepareVolumes, type VolumeSources } from './volumes.ts';

/** kubelet keeps at most this much of a termination message. */
const TERMINATION_MESSAGE_LIMIT = 4096;
const FALLBACK_LOG_BYTES = 2048;
const RETRY_MS = 2_000;
/** The variable operator/runner/cli.ts reads to find where to write its termination message. */
export const TERMINATION_MESSAGE_PATH_ENV = 'MFA_TERMINATION_MESSAGE_PATH';
const DEFAULT_TERMINATION_MESSAGE_PATH = '/dev/termination-log';

/** What a pod worker needs from the node: where things go and how to reach the API server. */
export interface NodeContext {
  mode: SandboxMode;
  podsDir: string;
  logDir: string;
  imageRoot: string;
  imageWorkdir: string;
  /** The variables every container gets from the runtime (PATH, KUBERNETES_SERVICE_*, extra env). */
  runtimeEnv: ReadonlyMap<string, string>;
  volumeSources(pod: V1Pod): Promise<VolumeSources>;
  reportStatus(pod: V1Pod, phase: PodPhase, container: ReportedContainer): Promise<void>;
  onOutput?(pod: V1Pod, stream: 'stdout' | 'stderr', chunk: string): void;
}

interface Prepared {
  argv: string[];
  env: Map<string, string>;
  mounts: PlannedMount[];
  workdir: string;
  terminationFile: string;
  refreshToken?: () => Promise<void>;
}

/** Runs one pod's single container as kubelet would, from ContainerCreating to a terminated state. */
export class PodWorker {
  readonly pod: V1Pod;
  readonly logPath: string;
  readonly #node: NodeContext;
  readonly #podDir: string;
  readonly #killed = new AbortController();
  #graceSeconds = 30;
  #abandoned = false;
  #finished: Promise<void> | undefined;

  constructor(pod: V1Pod, node: NodeContext) {
    this.pod = pod;
    this.#node = node;
    this.#podDir = join(node.podsDir, pod.metadata!.uid!);
    this.logPath = join(node.logDir, `${pod.metadata!.namespace}_${pod.metadata!.name}.log`);
  }

  get container(): V1Container {
    return this.pod.spec!.containers[0]!;
  }

  /** Starts the pod; the promise settles once its final status is reported and its files are gone. */
  start(): Promise<void> {
    this.#finished ??= this.#run()
      .catch((err: unknown) => this.#report({ exitCode: 128, reason: 'StartError', message: describeError(err), finishedAt: new Date() }))
      .finally(() => rm(this.#podDir, { recursive: true, force: true }));
    return this.#finished;
  }

  /**
   * Stops the container: SIGTERM to pid 1, SIGKILL after the grace period, as kubelet does on deletion.
   * `abandon` is the runner itself going away: the pod's status is left as it was, like a node that died.
   */
  kill(graceSeconds: number, abandon = false): void {
    this.#graceSeconds = graceSeconds;
    this.#abandoned ||= abandon;
    this.#killed.abort();
  }

  async #run(): Promise<void> {
    await mkdir(this.#podDir, { recursive: true, mode: 0o700 });
    await this.#node.reportStatus(this.pod, 'Pending', waiting('ContainerCreating'));
    const prepared = await this.#prepareUntilReady();
    if (!prepared) return;
    if (prepared instanceof JobRunnerError) {
      await this.#report({ exitCode: 128, reason: 'StartError', message: prepared.message, finishedAt: new Date() });
      return;
    }
    await this.#runContainer(prepared);
  }

  async #prepareUntilReady(): Promise<Prepared | JobRunnerError | undefined> {
    let lastReported = '';
    for (;;) {
      if (this.#killed.signal.aborted) {
        await this.#report({ exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The pod was deleted before its container started', finishedAt: new Date() });
        return undefined;
      }
      try {
        return await this.#prepare();
      } catch (err: unknown) {
        // API errors (a service account not created yet, a restarting API server) are retried like kubelet does.
        const failure = err instanceof JobRunnerError ? err : new JobRunnerError('FailedMount', describeError(err), true);
        if (!failure.retryable) return failure;
        const reason = failure.reason === 'FailedMount' ? 'ContainerCreating' : failure.reason;
        // Reported (and an Event recorded) when the reason changes, not on every retry.
        if (failure.message !== lastReported) await this.#node.reportStatus(this.pod, 'Pending', waiting(reason, failure.message));
        lastReported = failure.message;
        await sleep(RETRY_MS, this.#killed.signal);
      }
    }
  }

  async #prepare(): Promise<Prepared> {
    const container = this.container;
    const sources = await this.#node.volumeSources(this.pod);
    const volumes = await prepareVolumes(this.pod, container, this.#podDir, sources);
    const terminationFile = join(this.#podDir, 'termination-log');
    await writeFile(terminationFile, '', { mode: 0o666 });
    const runtime = new Map(this.#node.runtimeEnv);
    runtime.set('HOSTNAME', this.pod.metadata!.name!);
    const messagePath = container.terminationMessagePath ?? DEFAULT_TERMINATION_MESSAGE_PATH;
    const mounts = [...volumes.mounts];
    if (isInsideMounts(messagePath, mounts)) {
      mounts.push({ kind: 'file', source: 'termination-log', target: messagePath, readOnly: false });
    } else {
      // /dev is the host's: the runner is told where to write instead, at the file's own path (see the prelude).
      mounts.push({ kind: 'file', source: 'termination-log', target: terminationFile, readOnly: false });
      runtime.set(TERMINATION_MESSAGE_PATH_ENV, terminationFile);
    }
    const env = await containerEnvironment(this.pod, container, sources.reader, runtime);
    return {
      argv: containerArgv(container, env), env, mounts: orderMounts(mounts, this.#node.podsDir),
      workdir: this.#hostWorkdir(container.workingDir), terminationFile, refreshToken: volumes.refreshToken,
    };
  }

  /** The image's WORKDIR stands for --image-root; another working directory is entered after the mounts. */
  #hostWorkdir(workingDir: string | undefined): string {
    const imageWorkdir = this.#node.imageWorkdir;
    if (!workingDir || workingDir === imageWorkdir || workingDir.startsWith(`${imageWorkdir}/`)) return '';
    return workingDir;
  }

  #cwd(): string {
    const workingDir = this.container.workingDir;
    const inImage = workingDir?.startsWith(`${this.#node.imageWorkdir}/`) ? posix.relative(this.#node.imageWorkdir, workingDir) : '';
    return join(this.#node.imageRoot, inImage);
  }

  async #runContainer(prepared: Prepared): Promise<void> {
    const layout = { podDir: this.#podDir, hiddenDir: this.#node.podsDir, hostname: this.pod.metadata!.name!, workdir: prepared.workdir, mounts: prepared.mounts };
    await mkdir(this.#node.logDir, { recursive: true });
    const log = createWriteStream(this.logPath, { flags: 'a' });
    const child = spawnInSandbox(this.#node.mode, preludeArgv(layout, prepared.argv), this.#cwd(), prepared.env);
    const startedAt = new Date();
    const containerId = `local://${child.pid}`;
    const exited = new Promise<Termination>((resolve) => {
      child.on('error', (err) => resolve({ exitCode: 128, reason: 'StartError', message: err.message, startedAt, finishedAt: new Date(), containerId }));
      child.on('close', (code, signal) => resolve(this.#termination(containerExitCode(code, signal), startedAt, containerId)));
    });
    this.#pipe(child, log);
    const stopRotation = this.#rotateToken(prepared.refreshToken);
    const stopKill = this.#killOnAbort(child);
    await this.#node.reportStatus(this.pod, 'Running', running(startedAt, containerId)).catch(() => undefined);
    const termination = await exited;
    stopRotation();
    stopKill();
    await new Promise((resolve) => log.end(resolve));
    termination.message = await this.#terminationMessage(prepared.terminationFile, termination.exitCode);
    await this.#report(termination);
  }

  #termination(exitCode: number, startedAt: Date, containerId: string): Termination {
    return { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt, finishedAt: new Date(), containerId };
  }

  #pipe(child: ChildProcess, log: WriteStream): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream]?.on('data', (chunk: Buffer) => {
        log.write(chunk);
        this.#node.onOutput?.(this.pod, stream, chunk.toString('utf8'));
      });
    }
  }

  #killOnAbort(child: ChildProcess): () => void {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      signalSandbox(child, 'SIGTERM');
      timer = setTimeout(() => signalSandbox(child, 'SIGKILL'), this.#graceSeconds * 1000);
    };
    if (this.#killed.signal.aborted) onAbort();
    else this.#killed.signal.addEventListener('abort', onAbort, { once: true });
    return () => {
      clearTimeout(timer);
      this.#killed.signal.removeEventListener('abort', onAbort);
    };
  }

  #rotateToken(refresh: (() => Promise<void>) | undefined): () => void {
    if (!refresh) return () => undefined;
    const timer = setInterval(() => void refresh().catch(() => undefined), TOKEN_ROTATION_MS);
    return () => clearInterval(timer);
  }

  /** The first 4096 bytes of the message file; with FallbackToLogsOnError, the log's tail when it is empty. */
  async #terminationMessage(file: string, exitCode: number): Promise<string | undefined> {
    const message = await readHead(file, TERMINATION_MESSAGE_LIMIT);
    if (message || exitCode === 0 || this.container.terminationMessagePolicy !== 'FallbackToLogsOnError') return message || undefined;
    return (await readTail(this.logPath, FALLBACK_LOG_BYTES)) || undefined;
  }

  async #report(termination: Termination): Promise<void> {
    if (this.#abandoned) return;
    const phase = termination.exitCode === 0 ? 'Succeeded' : 'Failed';
    await this.#node.reportStatus(this.pod, phase, terminated(termination));
  }
}

/** Tokens last TOKEN_LIFETIME_SECONDS; kubelet refreshes a projected token at 80% of its life. */
export const TOKEN_LIFETIME_SECONDS = 600;
const TOKEN_ROTATION_MS = TOKEN_LIFETIME_SECONDS * 800;

async function readHead(path: string, bytes: number): Promise<string> {
  const file = await open(path, 'r').catch(() => undefined);
  if (!file) return '';
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await file.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await file.close();
  }
}

async function readTail(path: string, bytes: number): Promise<string> {
  const file = await open(path, 'r').catch(() => undefined);
  if (!file) return '';
  try {
    const { size } = await file.stat();
    const start = Math.max(0, size - bytes);
    const buffer = Buffer.alloc(size - start);
    await file.read(buffer, 0, buffer.length, start);
    return buffer.toString('utf8');
  } finally {
    await file.close();
  }
}
