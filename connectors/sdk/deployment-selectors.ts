/**
 * Selectors per deployment, for family connectors whose pages a deployment may restyle (a Keycloak
 * login theme that renames its fields and buttons). The connector names each element it finds by a
 * selector and gives the default; the cluster admin overrides some of them for the deployment: the
 * Helm value `connectors.<id>.selectors` (a map of name to selector), which becomes the variable
 * `MFA_<ID>_SELECTORS` (JSON), which the controller checks at start and copies into that
 * connector's run Jobs only. A namespace user cannot set them. See docs/connectors.md.
 */

/** `keycloak` → `MFA_KEYCLOAK_SELECTORS`; a `-` in an id becomes `_`. */
export function selectorsEnv(connectorId: string): string {
  return `MFA_${connectorId.toUpperCase().replace(/-/g, '_')}_SELECTORS`;
}

/** Longer than any selector a theme needs; keeps a pasted document out of every run's environment. */
const MAX_SELECTOR_LENGTH = 300;

export class SelectorSettingsError extends Error {
  constructor(connectorId: string, problem: string) {
    super(`connectors.${connectorId}.selectors (${selectorsEnv(connectorId)}) ${problem}`);
    this.name = 'SelectorSettingsError';
  }
}

/**
 * The overrides a setting gives: a JSON object of element names the connector knows to non-empty
 * selector strings. Anything else names the key and what it takes.
 */
export function parseSelectorOverrides(
  connectorId: string,
  names: readonly string[],
  raw: string | undefined,
): Record<string, string> {
  if (raw === undefined || raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new SelectorSettingsError(connectorId, 'is not JSON; give a map of element name to selector');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SelectorSettingsError(connectorId, 'must be a map of element name to selector');
  }
  const overrides: Record<string, string> = {};
  for (const [name, selector] of Object.entries(parsed)) {
    if (!names.includes(name)) {
      throw new SelectorSettingsError(
        connectorId,
        `names an unknown element "${name.slice(0, 40)}"; known: ${names.join(', ')}`,
      );
    }
    if (typeof selector !== 'string' || selector.trim() === '' || selector.length > MAX_SELECTOR_LENGTH) {
      throw new SelectorSettingsError(
        connectorId,
        `.${name} must be a selector string of 1 to ${MAX_SELECTOR_LENGTH} characters`,
      );
    }
    overrides[name] = selector.trim();
  }
  return overrides;
}

/**
 * The connector's selectors with this deployment's overrides applied, read on use (not at import)
 * so a changed setting applies to the next run.
 */
export function deploymentSelectors<Name extends string>(
  connectorId: string,
  defaults: Readonly<Record<Name, string>>,
  env: NodeJS.ProcessEnv = process.env,
): Readonly<Record<Name, string>> {
  const overrides = parseSelectorOverrides(connectorId, Object.keys(defaults), env[selectorsEnv(connectorId)]);
  return { ...defaults, ...overrides };
}
