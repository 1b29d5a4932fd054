import type { Condition } from '../../api/v1alpha1/types.generated.ts';

export type ConditionStatus = Condition['status'];

export interface ConditionUpdate {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

/**
 * Sets a condition with metav1.Condition semantics: lastTransitionTime changes only when status changes;
 * reason, message and observedGeneration are always written. Returns whether anything changed.
 */
export function setCondition(conditions: Condition[], update: ConditionUpdate, generation: number, now: Date): boolean {
  const existing = conditions.find((c) => c.type === update.type);
  if (!existing) {
    conditions.push({ ...update, observedGeneration: generation, lastTransitionTime: rfc3339(now) });
    return true;
  }
  const changed =
    existing.status !== update.status ||
    existing.reason !== update.reason ||
    existing.message !== update.message ||
    existing.observedGeneration !== generation;
  if (existing.status !== update.status) existing.lastTransitionTime = rfc3339(now);
  existing.status = update.status;
  existing.reason = update.reason;
  existing.message = update.message;
  existing.observedGeneration = generation;
  return changed;
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** Kubernetes serialises metav1.Time at second precision; match it so an unchanged status compares equal. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
