import { SecretValue } from '../core.ts';
import type { RecoveryCodeAsked, SecondFactor } from '../connector.ts';

/** What a recovery-code factor was asked for, in order: the position the app named, or `any`. */
export type AskedPositions = (number | 'any')[];

/**
 * A second factor that signs in with recovery codes the test holds, as the runner's does with the code service's:
 * the position the app names, else the first not yet given; a position given before, or one past the list, fails.
 * `asked` records what the connector asked for. Tests only.
 */
export function recoveryCodeFactor(
  codes: readonly string[],
  asked: AskedPositions = [],
): SecondFactor & { asked: AskedPositions } {
  const given = new Set<number>();
  return {
    asked,
    totpCode: () => Promise.reject(new Error('this factor answers with recovery codes only')),
    recoveryCode: ({ index }: RecoveryCodeAsked) => {
      asked.push(index ?? 'any');
      let position = index ?? 0;
      if (index === undefined) while (given.has(position)) position++;
      if (given.has(position) || position >= codes.length)
        return Promise.reject(new Error(`recovery code #${position + 1} is used or unknown`));
      given.add(position);
      return Promise.resolve(new SecretValue(codes[position]!));
    },
  };
}
