import { DemoHttpClient } from '../apps/demo/client/http-client.ts';
import { signIn } from '../apps/demo/client/flows.ts';
import { generateTotpCode } from '../../core/totp/totp-codes.ts';
import type { TotpSeed } from '../../core/totp/totp-seed.ts';

export type SignInResult = 'NoCodeAsked' | 'Accepted' | 'Refused';

/**
 * Signs in to the demo app over HTTP as a person with an authenticator would. The code is the next window's
 * (the app accepts one step either side and refuses a step it already took), so it never collides with a code
 * the automation just used and needs no wait. Use it as a test's last sign-in with that seed.
 */
export async function signInWith(
  appUrl: string,
  email: string,
  password: string,
  seed: TotpSeed,
): Promise<SignInResult> {
  const client = new DemoHttpClient(appUrl);
  const prompt = await signIn(client, email, password);
  if (prompt.path !== '/login/two-factor') return 'NoCodeAsked';
  const page = await client.submit(prompt, '/login/two-factor', {
    code: generateTotpCode(seed, Date.now() + seed.period * 1000).reveal(),
  });
  return page.status === 200 && page.path === '/' ? 'Accepted' : 'Refused';
}
