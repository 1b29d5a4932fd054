import type { Logger } from '../../core/logging/logger.ts';
import type { SeedSlot } from '../stores/seed-slots.ts';
import type { CodePurpose } from './code-issuer.ts';
import type { CodeMetrics, CodeResult } from './code-metrics.ts';

/**
 * `run`: a run Job's sign-in code from one store slot (the run endpoint), never shown to a person.
 * `recovery`: one stored recovery code, handed out once (the break-glass path).
 */
export type AuditPurpose = CodePurpose | 'run' | 'recovery';

/** One code request as the audit log keeps it: who, which account, what happened. Never the code. */
export interface CodeAuditRecord {
  readonly user: string;
  readonly groups?: readonly string[];
  readonly namespace: string;
  readonly name: string;
  readonly purpose: AuditPurpose;
  /** Run requests: the Job asking, and the slot (or none: the slot listing). */
  readonly job?: string;
  readonly slot?: SeedSlot;
  /** Recovery requests: the position of the code handed out (never the code). */
  readonly index?: number;
  readonly result: CodeResult;
  readonly reason?: string;
  /** Where the request came from: the peer address, or `in-process` for a connector's login. */
  readonly source: string;
}

/** Counts every code request in the metric and writes its audit line, together, so they cannot disagree. */
export class CodeOutcomes {
  readonly #metrics: CodeMetrics;
  readonly #audit: Logger;

  constructor(metrics: CodeMetrics, audit: Logger) {
    this.#metrics = metrics;
    this.#audit = audit;
  }

  record(entry: CodeAuditRecord, durationMs: number): void {
    this.#metrics.codesIssued.inc({ purpose: entry.purpose, result: entry.result });
    this.#metrics.requestDuration.observe({ purpose: entry.purpose, result: entry.result }, durationMs / 1000);
    // The field set is fixed here so nothing else (a code, a token) can slip into the line; pino adds the time.
    this.#audit.info(
      {
        audit: 'totp-code',
        user: entry.user,
        groups: entry.groups,
        namespace: entry.namespace,
        name: entry.name,
        purpose: entry.purpose,
        job: entry.job,
        slot: entry.slot,
        index: entry.index,
        result: entry.result,
        reason: entry.reason,
        source: entry.source,
        durationMs: Math.round(durationMs),
      },
      entry.result === 'issued'
        ? 'TOTP code issued'
        : entry.result === 'listed'
          ? 'run slots listed'
          : 'TOTP code refused',
    );
  }
}
