import type { SecondFactor } from '../../core/totp/second-factor.ts';
import type { SecretValue } from '../../core/secrets/secret-value.ts';
import { isCodeServiceError } from './code-errors.ts';
import type { CodeIssuer, CodePurpose, IssuedCode } from './code-issuer.ts';
import { resultOf } from './code-metrics.ts';
import type { CodeOutcomes } from './code-outcomes.ts';
import type { ActiveSeedSource } from './seed-source.ts';

export interface AccountRefName {
  readonly namespace: string;
  readonly name: string;
}

/** Codes for ManagedAccountMfa resources: the active seed from its store, turned into a code by the issuer. */
export class AccountCodes {
  readonly #seeds: ActiveSeedSource;
  readonly #issuer: CodeIssuer;

  constructor(seeds: ActiveSeedSource, issuer: CodeIssuer) {
    this.#seeds = seeds;
    this.#issuer = issuer;
  }

  async issue(account: AccountRefName, purpose: CodePurpose): Promise<IssuedCode> {
    const active = await this.#seeds.readActiveSeed(account.namespace, account.name);
    return this.#issuer.issue(active.seed, purpose, active.account);
  }
}

/**
 * The connectors' login step for accounts that already have MFA, inside the operator process:
 * the same login codes the service hands out (never a window already used for a login), counted
 * and audited the same way, with `requester` as the user.
 */
export function loginSecondFactor(
  codes: AccountCodes,
  outcomes: CodeOutcomes,
  account: AccountRefName,
  requester = 'mfa-operator',
): SecondFactor {
  return {
    async totpCode(): Promise<SecretValue<string>> {
      const started = performance.now();
      const record = {
        user: requester,
        namespace: account.namespace,
        name: account.name,
        purpose: 'login' as const,
        source: 'in-process',
      };
      try {
        const issued = await codes.issue(account, 'login');
        outcomes.record({ ...record, result: 'issued' }, performance.now() - started);
        return issued.code;
      } catch (e: unknown) {
        const reason = isCodeServiceError(e) ? e.reason : undefined;
        outcomes.record(
          { ...record, result: resultOf(reason), reason: reason ?? 'InternalError' },
          performance.now() - started,
        );
        throw e;
      }
    },
  };
}
