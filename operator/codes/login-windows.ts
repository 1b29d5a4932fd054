import { API_VERSION, MANAGED_ACCOUNT_MFA, MANAGED_BY, MANAGED_BY_LABEL } from '../api/v1alpha1/resources.ts';
import { CodeServiceError } from './code-errors.ts';
import type { LeaseRecords } from './lease-record.ts';

/** The account a login window is recorded for. */
export interface LoginAccount {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

/**
 * Which login windows of an account were handed out, as one time: every window that starts before it went to an
 * automated login. Kept as a time (not a window number) so that seeds of different periods share it.
 */
export interface LoginWindowRecord {
  /**
   * Atomically: `choose` gets the recorded time (0 when none) and returns the end of the window it takes, later than
   * that; resolves with it once recorded. `choose` may run more than once, and may throw to refuse.
   */
  reserve(account: LoginAccount, choose: (handedUntilMs: number) => number): Promise<number>;
}

/** Holds when the last handed login window of an account ends (RFC 3339). */
export const LOGIN_WINDOWS_ANNOTATION = 'mfa-operator.io/login-windows-until';

/**
 * One Lease per account in its namespace (`mfa-login-windows-<uid>`), owned by the ManagedAccountMfa so that it goes
 * with it, shared by every replica: with several replicas behind one Service a window still goes to one login only.
 */
export class LeaseLoginWindows implements LoginWindowRecord {
  readonly #records: LeaseRecords;

  constructor(records: LeaseRecords) {
    this.#records = records;
  }

  async reserve(account: LoginAccount, choose: (handedUntilMs: number) => number): Promise<number> {
    const recorded = await this.#records.update(
      {
        namespace: account.namespace,
        name: `mfa-login-windows-${account.uid}`,
        owner: { apiVersion: API_VERSION, kind: MANAGED_ACCOUNT_MFA.kind, name: account.name, uid: account.uid },
        labels: {
          [MANAGED_BY_LABEL]: MANAGED_BY,
          'app.kubernetes.io/component': 'login-windows',
          'mfa-operator.io/account-uid': account.uid,
        },
        annotation: LOGIN_WINDOWS_ANNOTATION,
      },
      (value) => new Date(choose(parseRecorded(value, account))).toISOString(),
    );
    return Date.parse(recorded);
  }
}

/** A record that cannot be read is not guessed at: no window is handed until it is repaired or deleted. */
function parseRecorded(value: string | undefined, account: LoginAccount): number {
  if (value === undefined) return 0;
  const at = Date.parse(value);
  if (Number.isFinite(at)) return at;
  throw new CodeServiceError(
    'LoginRecordUnavailable',
    `The login window record of ${account.namespace}/${account.name} (annotation ${LOGIN_WINDOWS_ANNOTATION}) is not a time; ` +
      'no login code is handed out until it is deleted.',
  );
}
