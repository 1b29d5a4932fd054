/**
 * The Gitea test instance (test/apps/gitea): how long it takes to start, and one authenticator
 * enablement through the runner against the same enablement as a bare Playwright script (the
 * floor: sign in, open the enrollment, read the key, type a code, read the recovery key, with no
 * QR decode, cross-check, durable writes, window-edge waits or step logging). Runs alternate, one
 * shared Chromium, a fresh user each.
 *
 *   node bench/gitea.ts [--starts 3] [--n 5]
 *
 * Prints one JSON object. Run by hand; figures go to docs/benchmarks.md.
 */
import { parseArgs } from 'node:util';
import { Secret, TOTP } from 'otpauth';
import { startGitea } from '../test/apps/gitea/server.ts';
import { benchEnablement, submit } from './real-app-enablement.ts';

const { values } = parseArgs({
  options: { starts: { type: 'string', default: '3' }, n: { type: 'string', default: '5' } },
});

await benchEnablement({
  connector: 'gitea',
  start: () => startGitea(),
  starts: Number(values.starts),
  n: Number(values.n),
  bare: async (gitea, page, username, password) => {
    await page.goto(gitea.loginUrl);
    await page.locator('input[name="user_name"]').fill(username);
    await page.locator('input[name="password"]').fill(password);
    await submit(page, page.locator('input[name="password"]'));
    await page.goto(`${gitea.url}/user/settings/security/two_factor/enroll`);
    const secret = (await page.locator('.user-setting-content img[src^="data:image/"]').getAttribute('alt')) ?? '';
    for (let attempt = 0; new URL(page.url()).pathname !== '/user/settings/security' && attempt < 2; attempt++) {
      await page.locator('input[name="passcode"]').fill(TOTP.generate({ secret: Secret.fromBase32(secret) }));
      await submit(page, page.locator('input[name="passcode"]'));
    }
    const message = await page.locator('.flash-message.flash-success').innerText();
    if (!/\([A-HJ-NP-Z2-9]{10}\)/.test(message)) throw new Error('the bare run saw no recovery key');
  },
});
