import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { TotpSeed } from '../../core/totp/totp-seed.ts';
import {
  adoptedSlotData,
  recoveryCodesData,
  seedData,
  seedStateData,
  type ResultSeedState,
} from '../run-contract/result-secret.ts';
import type { SecretValue } from '../../core/secrets/secret-value.ts';
import type { ResultSink } from './result-sink.ts';
import type { SeedSlot } from '../stores/seed-slots.ts';

/**
 * The result sink of a run Job: the per-run result Secret, written with the pod's own service account
 * (allowed get and update on this one Secret; the operator holds those verbs itself, as RBAC requires of
 * a Role it creates). An update that returns is in etcd, so the seed is durable before the runner asks
 * the app to confirm it; the read resourceVersion makes a lost concurrent write a conflict, not a loss.
 */
export class KubernetesResultSink implements ResultSink {
  readonly #api: CoreV1Api;
  readonly #namespace: string;
  readonly #name: string;

  constructor(namespace: string, name: string, kc: KubeConfig = inClusterConfig()) {
    this.#api = kc.makeApiClient(CoreV1Api);
    this.#namespace = namespace;
    this.#name = name;
  }

  writePendingSeed(seed: TotpSeed): Promise<void> {
    return this.#write('store the pending seed', seedData(seed, 'pending'));
  }

  markConfirmed(): Promise<void> {
    return this.#write('record the confirmation', seedStateData('confirmed'));
  }

  markAdopted(slot: SeedSlot): Promise<void> {
    return this.#write('record the adopted seed', adoptedSlotData(slot));
  }

  writeRecoveryCodes(codes: SecretValue<readonly string[]>): Promise<void> {
    return this.#write('store the recovery codes', recoveryCodesData(codes));
  }

  markDisabled(): Promise<void> {
    return this.#write('record that MFA is off', seedStateData('disabled' satisfies ResultSeedState));
  }

  async #write(what: string, data: Record<string, string>): Promise<void> {
    await this.#call(what, async () => {
      const secret = await this.#api.readNamespacedSecret({ name: this.#name, namespace: this.#namespace });
      secret.data = { ...secret.data, ...data };
      return this.#api.replaceNamespacedSecret({ name: this.#name, namespace: this.#namespace, body: secret });
    });
  }

  async #call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e: unknown) {
      const detail = e instanceof ApiException ? `HTTP ${e.code}` : e instanceof Error ? e.name : 'unknown error';
      // The runner turns this into SinkUnavailable with what the failure left the account in.
      throw new Error(`Could not ${what} in result Secret ${this.#namespace}/${this.#name} (${detail}).`);
    }
  }
}

/** The pod's service account, never a kubeconfig from the environment: the runner must act as itself. */
function inClusterConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromCluster();
  return kc;
}
