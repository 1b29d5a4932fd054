/**
 * The django-two-factor-auth test site (test/apps/django-two-factor): how long it takes to start, and
 * one authenticator enablement through the runner against the same enablement as a bare Playwright
 * script (the floor: sign in, the setup wizard's welcome and method steps, read the key, type a code,
 * generate and read the backup tokens, with no QR decode, cross-check, durable writes, window-edge
 * waits or step logging). Runs alternate, one shared Chromium, a fresh user each.
 *
 *   node bench/django-two-factor.ts [--starts 3] [--n 5]
 *
 * Prints one JSON object. Run by hand; figures go to docs/benchmarks.md.
 */
import { parseArgs } from 'node:util';
import { Secret, TOTP } from 'otpauth';
import { startDjangoTwoFactor } from '../test/apps/django-two-factor/server.ts';
import { benchEnablement, submit } from './real-app-enablement.ts';

const { values } = parseArgs({
  options: { starts: { type: 'string', default: '3' }, n: { type: 'string', default: '5' } },
});

await benchEnablement({
  connector: 'django-two-factor',
  start: () => startDjangoTwoFactor(),
  starts: Number(values.starts),
  n: Number(values.n),
  bare: async (site, page, username, password) => {
    await page.goto(site.loginUrl);
    await page.locator('input[name="auth-username"]').fill(username);
    await page.locator('input[name="auth-password"]').fill(password);
    await submit(page, page.locator('input[name="auth-password"]'));
    await page.goto(`${site.url}/${site.urlPrefix}account/two_factor/setup/`);
    const wizard = page.locator('form:has(input[name$="-current_step"])');
    await submit(page, wizard.locator('[type="submit"]').last(), 'click');
    await page.locator('input[type="radio"][value="generator"]').check();
    await submit(page, wizard.locator('[type="submit"]').last(), 'click');
    const secret = (await page.locator('a[href^="otpauth:"]').innerText()).trim();
    for (let attempt = 0; !page.url().includes('/setup/complete/') && attempt < 2; attempt++) {
      await page.locator('input[name="generator-token"]').fill(TOTP.generate({ secret: Secret.fromBase32(secret) }));
      await submit(page, page.locator('input[name="generator-token"]'));
    }
    await page.goto(`${site.url}/${site.urlPrefix}account/two_factor/backup/tokens/`);
    await submit(page, page.locator('form[method="post" i] [type="submit"]').last(), 'click');
    if ((await page.locator('ul li').count()) < 10) throw new Error('the bare run saw no backup tokens');
  },
});
