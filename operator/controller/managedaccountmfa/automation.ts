import type { ManagedAccountMfa, ManagedAccountMfaStatus } from '../../api/v1alpha1/types.generated.ts';
import type { ConditionUpdate } from '../status/conditions.ts';

/** What one step of the automation observed: conditions to set, status fields it owns, when to look again. */
export interface AutomationStep {
  conditions: ConditionUpdate[];
  status?: Partial<Pick<ManagedAccountMfaStatus, 'mfaState' | 'totp' | 'recoveryCodes' | 'verification' | 'history'>>;
  requeueAfterMs?: number;
  /** Events beyond condition changes (JobCreated), recorded once status is written. */
  events?: Array<{ type: 'Normal' | 'Warning'; reason: string; action: string; note: string }>;
  /** Work that must follow a successful status write (deleting a run's result Secret). */
  afterStatusWritten?: () => Promise<void>;
}

export interface FinalizeStep extends AutomationStep {
  done: boolean;
}

/**
 * The seam between reconcile and the browser automation. Reconcile validates references and keeps
 * conditions; the driver works from observed state (its Jobs and results) toward spec.mfa.state.
 */
export interface AutomationDriver {
  step(mfa: ManagedAccountMfa, signal: AbortSignal): Promise<AutomationStep>;
  finalize(mfa: ManagedAccountMfa, signal: AbortSignal): Promise<FinalizeStep>;
}

/**
 * Used when the operator runs without a runner image: says so in status instead of pretending.
 * Deletion removes the finalizer, since nothing was done on the app and nothing was stored.
 */
export const noAutomation: AutomationDriver = {
  async step() {
    return {
      conditions: [
        {
          type: 'AutomationSucceeded',
          status: 'Unknown',
          reason: 'AutomationNotConfigured',
          message:
            'References are valid, but this operator runs without a runner image (--runner-image), so no automation runs and MFA was not turned on.',
        },
      ],
    };
  },
  async finalize() {
    return { done: true, conditions: [] };
  },
};
