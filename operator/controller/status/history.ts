import type { RunRecord } from '../../api/v1alpha1/types.generated.ts';

/** Runs and recovery code hand-outs each keep this many entries (the CRD allows both: maxItems 40). */
export const HISTORY_LIMIT_PER_KIND = 20;

/** A recovery code hand-out's entry: it names a user, never a Job. */
function isHandOut(entry: RunRecord): boolean {
  return entry.job === undefined;
}

/**
 * `status.history` with `entry` first (newest first), replacing an earlier entry of the same Job (a repeated
 * harvest). Runs and hand-outs are capped separately, so a burst of hand-outs never pushes a run's entry out:
 * the driver reads a failed run's message from it.
 */
export function withHistoryEntry(history: readonly RunRecord[] | undefined, entry: RunRecord): RunRecord[] {
  const rest = (history ?? []).filter((h) => entry.job === undefined || h.job !== entry.job);
  let runs = 0;
  let handOuts = 0;
  return [entry, ...rest].filter((h) =>
    isHandOut(h) ? ++handOuts <= HISTORY_LIMIT_PER_KIND : ++runs <= HISTORY_LIMIT_PER_KIND,
  );
}
