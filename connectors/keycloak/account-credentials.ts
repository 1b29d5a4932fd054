import type { ConnectorContext, MfaState } from '../sdk/connector.ts';
import { connectorOutdated, timedOut } from '../sdk/errors.ts';
import { APP } from './names.ts';
import { openPage, type KeycloakPage } from './pages.ts';
import { realmUrls } from './realm-url.ts';

/**
 * One entry of the account REST API's `GET /realms/<realm>/account/credentials`: a credential
 * type the realm offers, and the user's credentials of that type. Only the fields used here.
 */
export interface CredentialType {
  type: string;
  category?: string;
  /** The required action that adds one ("CONFIGURE_TOTP"); absent when users cannot add it. */
  createAction?: string;
  userCredentialMetadatas?: { credential: { id: string; userLabel?: string } }[];
}

export const OTP = 'otp';
export const RECOVERY_CODES = 'recovery-authn-codes';
/** Types that are a second factor in their own right (recovery codes only back one up). */
const MFA_CATEGORIES = new Set(['two-factor', 'passwordless']);
const METHOD_NAMES: Readonly<Record<string, string>> = { webauthn: 'webauthn', 'webauthn-passwordless': 'passkey' };

export interface SigningInPage {
  page: KeycloakPage;
  types: CredentialType[];
}

/**
 * Open the account console's "Signing in" page and read the credential list it loads. The JSON the
 * page itself fetches (with its own token) is the source of truth, not the rendered text.
 */
export async function openSigningIn(ctx: ConnectorContext): Promise<SigningInPage> {
  const urls = realmUrls(ctx.loginUrl);
  const loaded = ctx.page.waitForResponse(
    (r) => r.request().method() === 'GET' && r.url().split('?')[0] === urls.credentialsApi,
    { timeout: ctx.timeouts.navigationMs },
  );
  // Keep a failed wait from surfacing as an unhandled rejection when openPage fails first.
  loaded.catch(() => undefined);
  const page = await openPage(ctx, urls.signingIn, 'opening the "Signing in" page');
  if (page.kind !== 'account')
    throw connectorOutdated(APP, 'the account console "Signing in" page (the session was not signed in)');
  let body: unknown;
  try {
    const response = await loaded;
    if (!response.ok()) throw connectorOutdated(APP, `a readable credential list (HTTP ${response.status()})`);
    body = await response.json();
  } catch (e: unknown) {
    if (e instanceof Error && e.name === 'TimeoutError') throw timedOut(APP, 'reading the credential list', e);
    throw e;
  }
  return { page, types: parseCredentialTypes(body) };
}

export function parseCredentialTypes(body: unknown): CredentialType[] {
  if (
    !Array.isArray(body) ||
    !body.every((entry) => typeof entry === 'object' && entry !== null && typeof entry.type === 'string')
  ) {
    throw connectorOutdated(APP, 'a credential list of { type, userCredentialMetadatas } entries');
  }
  return body as CredentialType[];
}

export function credentialIds(types: readonly CredentialType[], type: string): string[] {
  const entry = types.find((candidate) => candidate.type === type);
  return (entry?.userCredentialMetadatas ?? []).map((metadata) => metadata.credential.id);
}

export function offersSetup(types: readonly CredentialType[], type: string): boolean {
  return types.some((candidate) => candidate.type === type && candidate.createAction !== undefined);
}

export function mfaStateOf(types: readonly CredentialType[]): MfaState {
  const otherMethods = types
    .filter((entry) => entry.type !== OTP && entry.type !== RECOVERY_CODES)
    .filter((entry) => MFA_CATEGORIES.has(entry.category ?? '') && (entry.userCredentialMetadatas?.length ?? 0) > 0)
    .map((entry) => METHOD_NAMES[entry.type] ?? entry.type);
  return { totpEnabled: credentialIds(types, OTP).length > 0, otherMethods };
}
