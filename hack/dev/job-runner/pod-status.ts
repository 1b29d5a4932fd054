import type { V1ContainerState, V1Pod, V1PodCondition, V1PodStatus } from '@kubernetes/client-node';

/** The local "node": pods share the machine's network, like hostNetwork pods. */
export const NODE_NAME = 'local';
const NODE_IP = '127.0.0.1';

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

/** What kubelet knows about the pod's one container. */
export interface ContainerReport {
  state: V1ContainerState;
  containerId?: string;
  started: boolean;
  ready: boolean;
}

function condition(type: string, ready: boolean, now: Date, reason?: string): V1PodCondition {
  return { type, status: ready ? 'True' : 'False', lastTransitionTime: now, ...(reason ? { reason } : {}) };
}

function conditions(phase: PodPhase, container: ContainerReport, now: Date, scheduledAt: Date): V1PodCondition[] {
  const finished = phase === 'Succeeded' || phase === 'Failed';
  const notReadyReason = finished ? 'PodCompleted' : 'ContainersNotReady';
  return [
    condition('PodReadyToStartContainers', phase !== 'Pending' || container.started, now),
    condition('Initialized', true, now, finished ? 'PodCompleted' : undefined),
    condition('Ready', container.ready, now, container.ready ? undefined : notReadyReason),
    condition('ContainersReady', container.ready, now, container.ready ? undefined : notReadyReason),
    condition('PodScheduled', true, scheduledAt),
  ];
}

/** The status kubelet reports: phase, conditions, IPs and the container's state. */
export function podStatus(pod: V1Pod, phase: PodPhase, container: ReportedContainer, now = new Date()): V1PodStatus {
  const spec = pod.spec!.containers[0]!;
  const startTime = pod.status?.startTime ?? now;
  return {
    phase,
    conditions: conditions(phase, container.report, now, pod.metadata?.creationTimestamp ?? now),
    hostIP: NODE_IP, hostIPs: [{ ip: NODE_IP }], podIP: NODE_IP, podIPs: [{ ip: NODE_IP }],
    startTime,
    containerStatuses: [{
      name: spec.name, image: spec.image ?? '', imageID: '', restartCount: 0,
      ready: container.report.ready, started: container.report.started, state: container.report.state,
      ...(container.report.containerId ? { containerID: container.report.containerId } : {}),
    }],
    ...(container.podReason ? { reason: container.podReason, message: container.podMessage } : {}),
  };
}

export interface ReportedContainer {
  report: ContainerReport;
  podReason?: string;
  podMessage?: string;
}

export function waiting(reason: string, message?: string): ReportedContainer {
  return { report: { state: { waiting: { reason, ...(message ? { message } : {}) } }, started: false, ready: false } };
}

export function running(startedAt: Date, containerId: string): ReportedContainer {
  return { report: { state: { running: { startedAt } }, containerId, started: true, ready: true } };
}

export interface Termination {
  exitCode: number;
  reason: string;
  message?: string;
  startedAt?: Date;
  finishedAt: Date;
  containerId?: string;
}

export function terminated(t: Termination): ReportedContainer {
  return {
    report: {
      state: { terminated: {
        exitCode: t.exitCode, reason: t.reason, finishedAt: t.finishedAt,
        ...(t.startedAt ? { startedAt: t.startedAt } : {}), ...(t.message ? { message: t.message } : {}),
        ...(t.containerId ? { containerID: t.containerId } : {}),
      } },
      containerId: t.containerId, started: false, ready: false,
    },
  };
}

export function isTerminal(pod: V1Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

export function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}
