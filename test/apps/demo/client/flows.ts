import { Secret, TOTP } from 'otpauth';
import { DemoHttpClient, textById, type FetchedPage } from './http-client.ts';

/** A clock tests move by hand, so TOTP time steps are chosen, not raced. */
export class ManualClock {
  now = Date.UTC(2026, 0, 1, 12, 0, 0);

  advanceSeconds(seconds: number): void {
    this.now += seconds * 1000;
  }

  readonly read = (): number => this.now;
}

export async function signIn(client: DemoHttpClient, email: string, password: string): Promise<FetchedPage> {
  const login = await client.get('/login');
  return client.submit(login, '/login', { email, password });
}

/** From the settings page to the setup page with the text key shown. */
export async function startEnrollment(client: DemoHttpClient): Promise<FetchedPage> {
  const settings = await client.get('/settings/security');
  await client.submit(settings, '/settings/security/totp/enroll', {});
  return client.get('/settings/security/totp/setup?show-key=1');
}

export function setupKey(page: FetchedPage): string {
  const key = textById(page, 'totp-setup-key');
  if (!key) throw new Error(`no setup key on ${page.path}`);
  return key;
}

export function codeAt(
  seed: string,
  timestamp: number,
  parameters: Partial<{ algorithm: string; digits: number; period: number }> = {},
): string {
  const secret = Secret.fromBase32(seed.replace(/[\s=]/g, '').toUpperCase());
  return new TOTP({ secret, ...parameters }).generate({ timestamp });
}
