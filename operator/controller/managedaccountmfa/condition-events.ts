import type { Condition } from '../../api/v1alpha1/types.generated.ts';
import type { EventType } from '../runtime/events.ts';
import type { ConditionUpdate } from '../status/conditions.ts';

export interface PlannedEvent {
  type: EventType;
  reason: string;
  action: string;
  note: string;
}

/** Conditions a run sets: any settled value (True or False) is a milestone of the run or its harvest. */
const RUN_CONDITIONS: ReadonlySet<string> = new Set([
  'AutomationSucceeded',
  'MfaEnabled',
  'SeedStored',
  'RecoveryCodesStored',
  'MfaVerified',
  'RecoveryCodesRegenerated',
]);

/**
 * Which Events one reconcile emits, from the conditions before it and the updates it writes: warnings (a condition
 * turning False or changing its False reason), run milestones (the step's own Events, and run conditions settling),
 * a reference condition recovering (True after it was not), and Ready changing. Routine news is not an Event: a
 * reference found on the first visit, or an Unknown condition, which Ready already tells. Ready is left out when an
 * Event of this reconcile already carries its reason, and when it is Unknown and another Event tells why.
 */
export function plannedEvents(
  before: readonly Condition[],
  updates: readonly ConditionUpdate[],
  ready: ConditionUpdate,
  stepEvents: readonly PlannedEvent[] = [],
): PlannedEvent[] {
  const events: PlannedEvent[] = [...stepEvents];
  for (const update of updates) {
    const event = conditionEvent(
      before.find((c) => c.type === update.type),
      update,
    );
    if (event) events.push(event);
  }
  const previousReady = before.find((c) => c.type === 'Ready');
  const told = events.some((e) => e.reason === ready.reason);
  if (transitioned(previousReady, ready) && !told && (ready.status !== 'Unknown' || events.length === 0)) {
    events.push(ready.status === 'False' ? warning(ready) : normal(ready));
  }
  return events;
}

/** A condition's own Event: a warning, a run milestone, or a reference recovering; none for routine news. */
function conditionEvent(previous: Condition | undefined, update: ConditionUpdate): PlannedEvent | undefined {
  if (!transitioned(previous, update) || update.status === 'Unknown') return undefined;
  if (update.status === 'False') return warning(update);
  return RUN_CONDITIONS.has(update.type) || (previous && previous.status !== 'True') ? normal(update) : undefined;
}

function warning(update: ConditionUpdate): PlannedEvent {
  return { type: 'Warning', reason: update.reason, action: update.type, note: update.message };
}

function normal(update: ConditionUpdate): PlannedEvent {
  return { type: 'Normal', reason: update.reason, action: update.type, note: update.message };
}

/** A change worth an Event: a new condition, or a different status or reason. */
function transitioned(previous: Condition | undefined, update: ConditionUpdate): boolean {
  return !previous || previous.status !== update.status || previous.reason !== update.reason;
}
