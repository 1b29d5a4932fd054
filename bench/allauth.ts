/**
 * The allauth test site (test/apps/allauth): how long it takes to start, and one authenticator
 * enablement through the runner against the same enablement as a bare Playwright script (the
 * floor: sign in, confirm the password, read the key, type a code, read the recovery codes, with no
 * QR decode, cross-check, durable writes, window-edge waits or step logging). Runs alternate, one
 * shared Chromium, a fresh user each.
 *
 *   node bench/allauth.ts [--starts 3] [--n 5]
 *
 * Prints one JSON object. Run by hand; figures go to docs/benchmarks.md.
 */
import { parseArgs } from 'node:util';
import { Secret, TOTP } from 'otpauth';
import { startAllauth } from '../test/apps/allauth/server.ts';
import { benchEnablement, submit } from './real-app-enablement.ts';

const { values } = parseArgs({
  options: { starts: { type: 'string', default: '3' }, n: { type: 'string', default: '5' } },
});

await benchEnablement({
  connector: 'allauth',
  start: () => startAllauth(),
  starts: Number(values.starts),
  n: Number(values.n),
  bare: async (site, page, username, password) => {
    await page.goto(site.loginUrl);
    await page.locator('input[name="login"]').fill(username);
    await page.locator('input[name="password"]').fill(password);
    await submit(page, page.locator('input[name="password"]'));
    await page.goto(`${site.url}/${site.urlPrefix}2fa/totp/activate/`);
    await page.locator('input[name="password"]').fill(password);
    await submit(page, page.locator('input[name="password"]'));
    const secret = await page.locator('#authenticator_secret').inputValue();
    for (let attempt = 0; !page.url().includes('/2fa/recovery-codes/') && attempt < 2; attempt++) {
      await page.locator('input[name="code"]').fill(TOTP.generate({ secret: Secret.fromBase32(secret) }));
      await submit(page, page.locator('input[name="code"]'));
    }
    const codes = (await page.locator('textarea#recovery_codes').inputValue()).split(/\s+/).filter(Boolean);
    if (codes.length === 0) throw new Error('the bare run saw no recovery codes');
  },
});
