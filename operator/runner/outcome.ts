import { writeFile } from 'node:fs/promises';
import type { TotpSeedMetadata } from '../../core/totp/totp-seed.ts';
import type { RunAction } from '../run-contract/run-spec.ts';
import type { StepTiming } from './steps.ts';

export const SUCCESS_OUTCOMES = ['Enabled', 'Adopted', 'Disabled', 'Verified'] as const;
export type SuccessOutcome = (typeof SUCCESS_OUTCOMES)[number];
export type Outcome = SuccessOutcome | 'Failed';

/**
 * The non-secret summary of one run: printed to stdout and written as the container's
 * termination message, where the controller reads it. Only fields listed here ever leave the pod
 * this way; secrets have no field to travel in.
 */
export interface OutcomeSummary {
  outcome: Outcome;
  /** CamelCase; equal to the outcome on success, the failure reason otherwise. */
  reason: string;
  message: string;
  retryable: boolean;
  retryAfterSeconds?: number;
  action: RunAction | 'unknown';
  connector: { id: string; version?: string };
  steps: StepTiming[];
  seed?: TotpSeedMetadata;
  recoveryCodeCount?: number;
  artifacts?: string[];
  startedAt: string;
  finishedAt: string;
}

export const DEFAULT_TERMINATION_MESSAGE_PATH = '/dev/termination-log';
/** Kubernetes keeps at most 4096 bytes of a termination message. */
const TERMINATION_MESSAGE_LIMIT = 4096;

export function isSuccess(summary: OutcomeSummary): boolean {
  return summary.outcome !== 'Failed';
}

/** The JSON written out; step details are dropped first if the summary would not fit. */
export function renderSummary(summary: OutcomeSummary): string {
  const full = JSON.stringify(summary);
  if (Buffer.byteLength(full) <= TERMINATION_MESSAGE_LIMIT) return full;
  const compact = JSON.stringify({ ...summary, steps: summary.steps.map(({ name, result }) => ({ name, result })) });
  if (Buffer.byteLength(compact) <= TERMINATION_MESSAGE_LIMIT) return compact;
  return JSON.stringify({ ...summary, steps: [], message: summary.message.slice(0, 1000) });
}

export async function publishSummary(summary: OutcomeSummary, terminationMessagePath: string, out: NodeJS.WritableStream): Promise<void> {
  const rendered = renderSummary(summary);
  out.write(`${rendered}\n`);
  try {
    await writeFile(terminationMessagePath, rendered, 'utf8');
  } catch (e: unknown) {
    // Outside a pod the default path does not exist; stdout still carries the summary.
    if (!(e instanceof Error && 'code' in e && (e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'EROFS'))) throw e;
  }
}
