import { describe, expect, it } from 'vitest';
import { reasonOf } from '../sdk/testing/reasons.ts';
import { mfaStateFromLinks } from './mfa-state.ts';
import { siteUrls } from './site-urls.ts';

const urls = siteUrls(new URL('https://app.example.com/account/login/'));
const link = (path: string) => `https://app.example.com/account/two_factor/${path}`;

describe("mfaStateFromLinks (the links of the package's Account Security page)", () => {
  it('reads "Enable Two-Factor Authentication" as off', () => {
    expect(mfaStateFromLinks(urls, ['https://app.example.com/', link('setup/')])).toEqual({
      totpEnabled: false,
      otherMethods: [],
    });
  });

  it('reads "Disable" as on, with "Show Codes" beside it', () => {
    expect(mfaStateFromLinks(urls, [link('backup/tokens/'), link('disable/')])).toEqual({
      totpEnabled: true,
      otherMethods: [],
    });
  });

  it("counts only the site's own paths: a link elsewhere to disable/ is not the switch", async () => {
    const elsewhere = 'https://other.example.com/account/two_factor/disable/';
    expect(await reasonOf(Promise.resolve().then(() => mfaStateFromLinks(urls, [elsewhere])))).toBe(
      'ConnectorOutdated',
    );
  });

  it('refuses a page without either link as ConnectorOutdated', async () => {
    expect(await reasonOf(Promise.resolve().then(() => mfaStateFromLinks(urls, [link('backup/tokens/')])))).toBe(
      'ConnectorOutdated',
    );
  });
});
