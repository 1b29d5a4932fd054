import type { ConnectorContext, SecondFactor } from '../sdk/connector.ts';
import { connectorOutdated, stepUpRequired } from '../sdk/errors.ts';
import type { SecretValue } from '../sdk/core.ts';
import { credentialIds, openSigningIn, OTP, RECOVERY_CODES, type CredentialType } from './account-credentials.ts';
import { APP } from './names.ts';
import { clickAndNavigate, describePage, expectLoginPage, expectVisible, LOGIN_PAGES } from './pages.ts';
import { passSignInPages } from './sign-in.ts';
import { themed } from './theme.ts';

/**
 * Turning the authenticator off deletes the account's OTP credentials and its recovery codes:
 * recovery codes left alone would still make Keycloak ask for a second factor at sign-in.
 * Recovery codes go first, so a re-authentication on the way can still be answered with a code.
 * Each deletion is Keycloak's delete_credential required action: maybe a re-authentication,
 * then "Do you want to delete ...?" and "Confirm deletion".
 */
const DELETION_ORDER = [RECOVERY_CODES, OTP];
/** A guard against a deletion that silently does nothing. */
const MAX_DELETIONS = 10;

export async function disableTotp(ctx: ConnectorContext, code: SecretValue<string> | undefined): Promise<void> {
  // No code: the run signed in with a recovery code, and its factor (one more recovery code) answers a re-authentication.
  const secondFactor = code ? codeThenStepUp(code, ctx.stepUp.secondFactor) : ctx.stepUp.secondFactor;
  let { types } = await openSigningIn(ctx);
  for (let deletions = 0; deletions < MAX_DELETIONS; deletions++) {
    const id = nextCredential(types);
    if (!id) return;
    await deleteCredential(ctx, id, secondFactor);
    ({ types } = await openSigningIn(ctx));
    if (nextCredential(types) === id)
      throw connectorOutdated(APP, 'the credential to be gone after "Confirm deletion"');
  }
  throw connectorOutdated(APP, `at most ${MAX_DELETIONS} credentials to delete`);
}

function nextCredential(types: readonly CredentialType[]): string | undefined {
  for (const type of DELETION_ORDER) {
    const [id] = credentialIds(types, type);
    if (id) return id;
  }
  return undefined;
}

async function deleteCredential(
  ctx: ConnectorContext,
  id: string,
  secondFactor: SecondFactor | undefined,
): Promise<void> {
  const row = ctx.page.locator(`[id="cred-${id}"]`);
  const remove = await expectVisible(ctx, row.locator('[data-testrole="remove"]'), 'the credential\'s "Delete" button');
  const next = await clickAndNavigate(ctx, remove, 'starting the credential deletion');
  const page = await passSignInPages(ctx, next, {
    purpose: 'stepUp',
    credentials: ctx.stepUp.credentials,
    ...(secondFactor ? { secondFactor } : {}),
  });
  expectLoginPage(page, LOGIN_PAGES.deleteCredential, 'the "Delete credential" confirmation page');
  const confirmed = await clickAndNavigate(ctx, themed(ctx, 'deleteConfirm'), 'confirming the deletion');
  if (confirmed.kind !== 'account')
    throw connectorOutdated(APP, `the account console after the deletion (found ${describePage(confirmed)})`);
}

/** The runner's code answers the first prompt; later prompts (a new window) need the code source. */
function codeThenStepUp(code: SecretValue<string>, stepUp: SecondFactor | undefined): SecondFactor {
  let used = false;
  return {
    totpCode: async () => {
      if (!used) {
        used = true;
        return code;
      }
      if (!stepUp) throw stepUpRequired(APP, 'a second authenticator code');
      return stepUp.totpCode();
    },
  };
}
