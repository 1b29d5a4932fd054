import { ApiException, V1MicroTime, type EventsV1Api, type KubernetesObject } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../logging/logger.ts';

export type EventType = 'Normal' | 'Warning';

/**
 * Emits events.k8s.io/v1 Events about an object. The note is built by the operator from reasons and
 * names only; it never carries a secret. Failures to record are logged, never fatal.
 */
export class EventRecorder {
  readonly #api: EventsV1Api;
  readonly #controller: string;
  readonly #instance: string;
  readonly #log: Logger;

  constructor(api: EventsV1Api, controller: string, instance: string, log: Logger) {
    this.#api = api;
    this.#controller = controller;
    this.#instance = instance;
    this.#log = log;
  }

  async record(obj: KubernetesObject, type: EventType, reason: string, action: string, note: string): Promise<void> {
    const meta = obj.metadata ?? {};
    const namespace = meta.namespace ?? 'default';
    try {
      await this.#api.createNamespacedEvent({
        namespace,
        body: {
          metadata: { name: `${meta.name}.${Date.now().toString(16)}${randomBytes(2).toString('hex')}`, namespace },
          eventTime: new V1MicroTime(),
          reportingController: this.#controller,
          reportingInstance: this.#instance,
          type, reason, action,
          note: note.slice(0, 1024),
          regarding: {
            apiVersion: obj.apiVersion, kind: obj.kind, name: meta.name, namespace,
            uid: meta.uid, resourceVersion: meta.resourceVersion,
          },
        },
      });
    } catch (err: unknown) {
      const detail = err instanceof ApiException ? `HTTP ${err.code}` : err instanceof Error ? err.message : String(err);
      this.#log.warn({ reason, object: `${namespace}/${meta.name}`, err: detail }, 'could not record event');
    }
  }
}
