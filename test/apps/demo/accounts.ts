import { timingSafeEqual, createHash } from 'node:crypto';
import { SecretValue } from '../../../core/secrets/secret-value.ts';
import { describeHazards, mergeHazards, NO_HAZARDS, type HazardSettings, type Hazards } from './hazards.ts';
import { RecoveryCodeSet } from './recovery-codes.ts';
import { existingTotpCredential, type TotpCredential } from './totp.ts';

export interface DemoAccountSpec {
  email: string;
  password: string | SecretValue<string>;
  hazards?: HazardSettings;
}

/** Enrollment between "Turn on authenticator app" and MFA being on. */
export interface PendingEnrollment {
  credential: TotpCredential;
  /** Set once the code was confirmed while the app waits for "I have saved these codes". */
  recoveryCodes: RecoveryCodeSet | null;
}

export interface Account {
  readonly email: string;
  readonly password: SecretValue<string>;
  hazards: Hazards;
  totp: TotpCredential | null;
  recoveryCodes: RecoveryCodeSet | null;
  pending: PendingEnrollment | null;
  /** Authenticator apps beyond the first, added behind the operator's back (admin API); their seeds are nobody's. */
  extraAuthenticators: number;
}

export interface AccountStatus {
  email: string;
  mfa: {
    enabled: boolean;
    methods: ('totp' | 'sms')[];
    pendingEnrollment: boolean;
    recoveryCodesRemaining: number;
    algorithm: string | null;
    digits: number | null;
    period: number | null;
    extraAuthenticators: number;
  };
  hazards: Record<string, unknown>;
}

export class AccountNotFoundError extends Error {
  readonly reason = 'AccountNotFound';
}

function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** In-memory accounts; `reset()` returns to the accounts the app started with. */
export class AccountStore {
  readonly #accounts = new Map<string, Account>();
  readonly #initial: DemoAccountSpec[];
  readonly #defaults: HazardSettings;

  constructor(initial: DemoAccountSpec[] = [], defaults: HazardSettings = {}) {
    this.#initial = initial;
    this.#defaults = defaults;
    this.reset();
  }

  reset(): void {
    this.#accounts.clear();
    for (const spec of this.#initial) this.upsert(spec);
  }

  /** Whether this very account object is still stored (not replaced by PUT, deleted, or reset). */
  holds(account: Account): boolean {
    return this.#accounts.get(account.email) === account;
  }

  find(email: string): Account | undefined {
    return this.#accounts.get(normaliseEmail(email));
  }

  get(email: string): Account {
    const account = this.find(email);
    if (!account)
      throw new AccountNotFoundError(`no demo account ${email}; create it with PUT /__admin/accounts/{email}`);
    return account;
  }

  /** Creates or replaces an account; answers whether it was created. */
  upsert(spec: DemoAccountSpec): boolean {
    const email = normaliseEmail(spec.email);
    const password = spec.password instanceof SecretValue ? spec.password : new SecretValue(spec.password);
    const account: Account = {
      email,
      password,
      hazards: NO_HAZARDS,
      totp: null,
      recoveryCodes: null,
      pending: null,
      extraAuthenticators: 0,
    };
    this.#applyHazards(account, { ...this.#defaults, ...spec.hazards });
    const created = !this.#accounts.has(email);
    this.#accounts.set(email, account);
    return created;
  }

  delete(email: string): void {
    if (!this.#accounts.delete(normaliseEmail(email))) this.get(email);
  }

  setHazards(email: string, changes: HazardSettings): void {
    this.#applyHazards(this.get(email), changes);
  }

  /** The account's owner turning the authenticator app off in the app, behind the operator's back. */
  turnTotpOff(email: string): void {
    const account = this.get(email);
    Object.assign(account, { totp: null, recoveryCodes: null, pending: null, extraAuthenticators: 0 });
  }

  /** The owner adding a second authenticator app beside the one MFA is on with; refused while TOTP is off. */
  addAuthenticator(email: string): boolean {
    const account = this.get(email);
    if (!account.totp) return false;
    account.extraAuthenticators += 1;
    return true;
  }

  passwordMatches(account: Account, candidate: string): boolean {
    return timingSafeEqual(digest(account.password.reveal()), digest(candidate));
  }

  status(email: string): AccountStatus {
    const account = this.get(email);
    const methods: AccountStatus['mfa']['methods'] = [];
    if (account.totp) methods.push('totp');
    if (account.hazards.otherMfaMethod) methods.push('sms');
    const parameters = account.totp?.parameters;
    return {
      email: account.email,
      mfa: {
        enabled: methods.length > 0,
        methods,
        pendingEnrollment: account.pending !== null,
        recoveryCodesRemaining: account.recoveryCodes?.remaining ?? 0,
        algorithm: parameters?.algorithm ?? null,
        digits: parameters?.digits ?? null,
        period: parameters?.period ?? null,
        extraAuthenticators: account.extraAuthenticators,
      },
      hazards: describeHazards(account.hazards),
    };
  }

  // Setting mfaAlreadyOn turns TOTP on with the given seed at once; clearing it leaves MFA as it is.
  #applyHazards(account: Account, changes: HazardSettings): void {
    const hazards = mergeHazards(account.hazards, changes);
    const existing = changes.mfaAlreadyOn;
    const credential = existing ? existingTotpCredential(existing) : null;
    account.hazards = hazards;
    if (!existing || !credential) return;
    account.totp = credential;
    account.recoveryCodes = new RecoveryCodeSet(new SecretValue(existing.recoveryCodes ?? []));
    account.pending = null;
    account.extraAuthenticators = 0;
  }
}
