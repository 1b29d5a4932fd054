import { createHash } from 'node:crypto';
import type { AuthenticationV1Api, AuthorizationV1Api, V1UserInfo } from '@kubernetes/client-node';
import { GROUP, MANAGED_ACCOUNT_MFA } from '../api/v1alpha1/resources.ts';
import type { SecretValue } from '../../core/secrets/secret-value.ts';
import { CodeServiceError } from './code-errors.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { TtlCache } from './ttl-cache.ts';

/** Who called, as the API server authenticated them. */
export interface Caller {
  readonly username: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra?: Record<string, string[]>;
}

export interface CallerReviewOptions {
  authentication: AuthenticationV1Api;
  authorization: AuthorizationV1Api;
  /** How long a TokenReview or SubjectAccessReview answer is reused; 0 asks the API server every time. */
  cacheTtlMs: number;
  /** The only audience a token is accepted for (TokenReview spec.audiences, checked in status.audiences). */
  audience: string;
  /** Taken before every TokenReview sent (not for cached answers), across all callers. */
  tokenReviews?: RateLimiter;
}

const TOKEN_REVIEWS = 'all';

/** What a request needs RBAC to allow on one ManagedAccountMfa, and how a refusal names it. */
export interface Access {
  /** The API group the SubjectAccessReview names; default the CRDs' group. */
  readonly group?: string;
  readonly subresource: 'code' | 'recovery-code';
  readonly verb: 'get' | 'create';
  readonly what: string;
}

export const CODE_ACCESS: Access = { subresource: 'code', verb: 'get', what: 'codes' };
/** A hand-out uses a code up, so it is `create`, on a subresource no code reader is granted by accident. */
export const RECOVERY_CODE_ACCESS: Access = { subresource: 'recovery-code', verb: 'create', what: 'recovery codes' };

type Authentication = { authenticated: true; caller: Caller } | { authenticated: false };

/**
 * Authenticates bearer tokens with TokenReview and authorises with SubjectAccessReview, the way
 * kube-rbac-proxy does, so who may get codes for which account is plain RBAC on the
 * `managedaccountmfas/code` subresource.
 */
export class CallerReview {
  readonly #authentication: AuthenticationV1Api;
  readonly #authorization: AuthorizationV1Api;
  readonly #tokens: TtlCache<Authentication>;
  readonly #decisions: TtlCache<boolean>;
  readonly #tokenReviews: RateLimiter | undefined;
  readonly #audience: string;

  constructor(options: CallerReviewOptions) {
    this.#tokenReviews = options.tokenReviews;
    this.#audience = options.audience;
    this.#authentication = options.authentication;
    this.#authorization = options.authorization;
    this.#tokens = new TtlCache(options.cacheTtlMs);
    this.#decisions = new TtlCache(options.cacheTtlMs);
  }

  /** The token's owner; throws Unauthenticated for a missing, expired or unknown token. */
  async authenticate(token: SecretValue<string> | undefined): Promise<Caller> {
    if (!token) throw unauthenticated('no bearer token was sent', this.#audience);
    // Keyed by a hash so the cache never holds the token itself.
    const key = createHash('sha256').update(token.reveal()).digest('base64url');
    const result = await this.#tokens.getOrLoad(key, () => this.#tokenReview(token));
    if (!result.authenticated)
      throw unauthenticated(
        `the API server did not accept the bearer token for audience "${this.#audience}"`,
        this.#audience,
      );
    return result.caller;
  }

  /**
   * Throws Forbidden unless RBAC allows `access` (default `get` on managedaccountmfas/code) for this one
   * resource. Recovery codes are a subresource of their own, so a right to TOTP codes does not grant them.
   */
  async authorize(caller: Caller, namespace: string, name: string, access: Access = CODE_ACCESS): Promise<void> {
    const key = JSON.stringify([
      caller.username,
      caller.uid,
      caller.groups,
      caller.extra,
      namespace,
      name,
      access.group,
      access.subresource,
      access.verb,
    ]);
    const allowed = await this.#decisions.getOrLoad(key, () => this.#accessReview(caller, namespace, name, access));
    if (!allowed) {
      throw new CodeServiceError(
        'Forbidden',
        `User "${caller.username}" cannot get ${access.what} for ${namespace}/${name}: ` +
          `it needs ${access.verb} on managedaccountmfas/${access.subresource} (group ${access.group ?? GROUP}) in namespace ${namespace}.`,
      );
    }
  }

  async #tokenReview(token: SecretValue<string>): Promise<Authentication> {
    this.#tokenReviews?.take(TOKEN_REVIEWS);
    let review;
    try {
      review = await this.#authentication.createTokenReview({
        body: { spec: { token: token.reveal(), audiences: [this.#audience] } },
      });
    } catch {
      // The API server's error may echo the request body, so it is not kept.
      throw new CodeServiceError(
        'ReviewUnavailable',
        'The API server could not review the token (TokenReview failed); retry later.',
        2,
      );
    }
    const status = review.status;
    if (!status?.authenticated || !status.user?.username) return { authenticated: false };
    // An API server that ignored spec.audiences answers with its own; only ours will do.
    if (!status.audiences?.includes(this.#audience)) return { authenticated: false };
    return { authenticated: true, caller: callerOf(status.user) };
  }

  async #accessReview(caller: Caller, namespace: string, name: string, access: Access): Promise<boolean> {
    try {
      const review = await this.#authorization.createSubjectAccessReview({
        body: {
          spec: {
            user: caller.username,
            uid: caller.uid,
            groups: [...caller.groups],
            extra: caller.extra,
            resourceAttributes: {
              group: access.group ?? GROUP,
              resource: MANAGED_ACCOUNT_MFA.plural,
              subresource: access.subresource,
              verb: access.verb,
              namespace,
              name,
            },
          },
        },
      });
      return review.status?.allowed === true && review.status.denied !== true;
    } catch {
      throw new CodeServiceError(
        'ReviewUnavailable',
        'The API server could not check permissions (SubjectAccessReview failed); retry later.',
        2,
      );
    }
  }
}

function callerOf(user: V1UserInfo): Caller {
  const caller: Caller = { username: user.username ?? '', groups: user.groups ?? [] };
  return { ...caller, ...(user.uid ? { uid: user.uid } : {}), ...(user.extra ? { extra: user.extra } : {}) };
}

function unauthenticated(why: string, audience: string): CodeServiceError {
  return new CodeServiceError(
    'Unauthenticated',
    `Not authenticated: ${why}. Send "Authorization: Bearer <token>" with a token minted for audience "${audience}" ` +
      `(kubectl mfa code NAME --service-account SERVICEACCOUNT, or kubectl create token SERVICEACCOUNT --audience ${audience}).`,
  );
}
