import { describe, expect, it } from 'vitest';
import { reasonOf } from '../sdk/testing/reasons.ts';
import { mfaStateFromTargets } from './mfa-state.ts';
import { siteUrls } from './site-urls.ts';

const urls = siteUrls(new URL('https://example.com/git/user/login'));

const at = (path: string) => `https://example.com/git/${path}`;
const none = { links: [], formActions: [], buttonUrls: [] };

describe('mfaStateFromTargets (what Settings → Security links and posts to)', () => {
  it('reads the "Enroll" link as the authenticator app being off', () => {
    const targets = { ...none, links: [at('user/settings/security/two_factor/enroll'), at('user/settings/account')] };
    expect(mfaStateFromTargets(urls, targets)).toEqual({ totpEnabled: false, otherMethods: [] });
  });

  it('reads the "Disable" form as on, whatever else posts from the page', () => {
    const formActions = [
      at('user/settings/security/two_factor/regenerate_scratch'),
      at('user/settings/security/two_factor/disable'),
    ];
    expect(mfaStateFromTargets(urls, { ...none, formActions })).toEqual({ totpEnabled: true, otherMethods: [] });
  });

  it('reports a registered security key (its delete button) as another method', () => {
    const targets = {
      ...none,
      links: [at('user/settings/security/two_factor/enroll')],
      buttonUrls: [at('user/settings/security/webauthn/delete?id=3')],
    };
    expect(mfaStateFromTargets(urls, targets).otherMethods).toEqual(['webauthn']);
  });

  it("counts only the instance's own paths: not under another prefix, nor on another origin", () => {
    const formActions = [
      at('evil/user/settings/security/two_factor/disable'),
      'https://evil.example/git/user/settings/security/two_factor/disable',
    ];
    const targets = { ...none, links: [at('user/settings/security/two_factor/enroll')], formActions };
    expect(mfaStateFromTargets(urls, targets).totpEnabled).toBe(false);
  });

  it('fails as ConnectorOutdated when neither is there (another page, or MFA management disabled for the user)', async () => {
    expect(
      await reasonOf(
        Promise.resolve().then(() => mfaStateFromTargets(urls, { ...none, links: [at('user/settings/account')] })),
      ),
    ).toBe('ConnectorOutdated');
  });
});
