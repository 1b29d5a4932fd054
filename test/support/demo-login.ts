import { TOTP, Secret } from 'otpauth';
import { DemoHttpClient, type FetchedPage } from '../apps/demo/client/http-client.ts';
import { signIn } from '../apps/demo/client/flows.ts';
import type { TotpSeed } from '../../core/totp/totp-seed.ts';

/**
 * Signs in to the demo app as a person would with an authenticator: password, then the current code.
 * The app refuses a code from a time step it already accepted (the automation's own confirmation),
 * so a refused first try waits for the next step and tries once more.
 */
export async function signInWithTotp(
  appUrl: string,
  email: string,
  password: string,
  seed: TotpSeed,
): Promise<FetchedPage> {
  const totp = new TOTP({
    secret: Secret.fromBase32(seed.secret.reveal()),
    algorithm: seed.algorithm,
    digits: seed.digits,
    period: seed.period,
  });
  for (let attempt = 0; ; attempt++) {
    const client = new DemoHttpClient(appUrl);
    const prompt = await signIn(client, email, password);
    if (prompt.path !== '/login/two-factor') return prompt;
    const page = await client.submit(prompt, '/login/two-factor', { code: totp.generate() });
    if (page.status !== 401 || attempt > 0) return page;
    const msIntoStep = Date.now() % (seed.period * 1000);
    await new Promise((r) => setTimeout(r, seed.period * 1000 - msIntoStep + 500));
  }
}

/**
 * Signs in with codes from somewhere else (the operator's code service). A refused first code
 * (its window was the automation's confirmation) is followed by one from the next window.
 */
export async function signInWithCodes(
  appUrl: string,
  email: string,
  password: string,
  codeFor: (attempt: number) => Promise<string>,
  periodSeconds = 30,
): Promise<FetchedPage> {
  for (let attempt = 0; ; attempt++) {
    const client = new DemoHttpClient(appUrl);
    const prompt = await signIn(client, email, password);
    if (prompt.path !== '/login/two-factor') return prompt;
    const page = await client.submit(prompt, '/login/two-factor', { code: await codeFor(attempt) });
    if (page.status !== 401 || attempt > 0) return page;
    const msIntoStep = Date.now() % (periodSeconds * 1000);
    await new Promise((r) => setTimeout(r, periodSeconds * 1000 - msIntoStep + 500));
  }
}
