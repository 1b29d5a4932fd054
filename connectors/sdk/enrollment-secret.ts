import type { Locator } from 'playwright-core';
import type { Logger } from '../../core/logging/logger.ts';
import { SecretValue } from '../../core/secrets/secret-value.ts';
import type { EnrollmentSecret } from './connector.ts';
import { connectorOutdated, ConnectorError } from './errors.ts';
import { parseOtpauthUri, parseTextKey } from './otpauth-uri.ts';
import { QrNotFoundError, readQrFromElement, readQrIfReadable } from './qr.ts';
import type { TotpSeed } from '../../core/totp/totp-seed.ts';

export interface EnrollmentElements {
  /** The element holding the setup key as text, if the page shows one. */
  textKey?: Locator;
  /** The element drawing the QR code (`<img>`, `<canvas>`, `<svg>`). */
  qr?: Locator;
  timeoutMs: number;
}

/**
 * Reads everything the setup page shows about the secret, so the runner can cross-check the
 * two readings. A QR code that cannot be decoded is tolerated when the text key is there.
 */
export async function readEnrollmentSecret(
  app: string,
  elements: EnrollmentElements,
  logger: Logger,
): Promise<Pick<EnrollmentSecret, 'textKey' | 'otpauthUri'>> {
  // Both readings at once: each is a few round trips to the page, and neither changes it.
  const [textKey, otpauthUri] = await Promise.all([
    elements.textKey ? readTextKey(elements.textKey, elements.timeoutMs) : undefined,
    elements.qr ? readQr(app, elements.qr, elements.timeoutMs, elements.textKey !== undefined, logger) : undefined,
  ]);
  if (!textKey && !otpauthUri) throw connectorOutdated(app, 'a setup key or QR code on the enrollment page');
  return { ...(textKey ? { textKey } : {}), ...(otpauthUri ? { otpauthUri } : {}) };
}

async function readTextKey(element: Locator, timeoutMs: number): Promise<SecretValue<string>> {
  return new SecretValue((await element.innerText({ timeout: timeoutMs })).trim());
}

/** Beside a text key an unreadable QR code is only a warning; alone it means the page changed. */
async function readQr(
  app: string,
  element: Locator,
  timeoutMs: number,
  haveTextKey: boolean,
  logger: Logger,
): Promise<SecretValue<string> | undefined> {
  if (haveTextKey) return readQrIfReadable(element, timeoutMs, logger);
  try {
    return await readQrFromElement(element, timeoutMs);
  } catch (e: unknown) {
    if (!(e instanceof QrNotFoundError)) throw e;
    throw connectorOutdated(app, 'a readable QR code on the enrollment page', e);
  }
}

/**
 * The seed the runner stores. With both readings the secrets must agree; the otpauth URI's
 * algorithm, digits and period win over the connector's defaults for a bare text key.
 */
export function resolveEnrollmentSeed(app: string, secret: EnrollmentSecret): TotpSeed {
  const fromUri = secret.otpauthUri ? parseOtpauthUri(secret.otpauthUri) : undefined;
  const defaults = secret.defaults ?? {};
  const fromText = secret.textKey
    ? parseTextKey(secret.textKey, { ...defaults, ...(fromUri ? parameters(fromUri) : {}) })
    : undefined;
  const seed = fromUri ?? fromText;
  if (!seed) throw connectorOutdated(app, 'a setup key or QR code on the enrollment page');
  if (fromUri && fromText && fromUri.secret.reveal() !== fromText.secret.reveal()) {
    throw new ConnectorError(
      'ConnectorOutdated',
      `The setup key and the QR code on the ${app} enrollment page encode different secrets; ` +
        'the connector reads the wrong element. Update the connector; nothing was confirmed, MFA stays off.',
      { expectedElement: 'setup key matching the QR code' },
    );
  }
  return {
    ...seed,
    issuer: seed.issuer ?? defaults.issuer,
    label: seed.label ?? defaults.label,
  };
}

function parameters(seed: TotpSeed): Pick<TotpSeed, 'algorithm' | 'digits' | 'period'> {
  return { algorithm: seed.algorithm, digits: seed.digits, period: seed.period };
}
