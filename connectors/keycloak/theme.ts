import type { Locator } from 'playwright-core';
import type { ConnectorContext } from '../sdk/connector.ts';
import { deploymentSelectors } from '../sdk/deployment-selectors.ts';
import { expectVisible } from '../sdk/page-contract.ts';
import { APP } from './names.ts';
import { LOGIN_THEME_SELECTORS } from './theme-selectors.ts';

/** The Keycloak connector's themed elements as this deployment names them (see theme-selectors.ts). */
export type ThemeElement = keyof typeof LOGIN_THEME_SELECTORS;

/** Elements that show or take a secret: painted over in failure screenshots, by default and overridden selector. */
const SECRET_ELEMENTS: readonly ThemeElement[] = [
  'password',
  'otp',
  'recoveryCode',
  'totpQr',
  'totpKey',
  'totpCode',
  'recoveryCodes',
];

/** This deployment's selectors, read on use so a changed setting applies to the next run. */
export function themeSelectors(): Readonly<Record<ThemeElement, string>> {
  return deploymentSelectors('keycloak', LOGIN_THEME_SELECTORS);
}

export function themed(ctx: ConnectorContext, element: ThemeElement): Locator {
  return ctx.page.locator(themeSelectors()[element]);
}

/** A themed element the page must show; missing, the error names the setting a restyled theme needs. */
export function expectThemed(ctx: ConnectorContext, element: ThemeElement, name: string): Promise<Locator> {
  const selector = themeSelectors()[element];
  return expectVisible(
    ctx,
    ctx.page.locator(selector),
    `${name}, "${selector}" (a login theme that renames it needs connectors.keycloak.selectors.${element})`,
    APP,
  );
}

export function themeSecretElements(): string[] {
  const selectors = themeSelectors();
  const hidden = ['#totpSecret', 'input[name="totpSecret"]'];
  return [...new Set([...SECRET_ELEMENTS.flatMap((e) => [LOGIN_THEME_SELECTORS[e], selectors[e]]), ...hidden])];
}
