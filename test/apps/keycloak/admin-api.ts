/**
 * The few admin REST calls the tests need (realms, users, credentials), over plain fetch
 * against a local Keycloak. Test-side only: the connector itself never uses the admin API.
 */

export interface AdminLogin {
  readonly url: string;
  readonly username: string;
  readonly password: string;
}

export interface RealmOptions {
  /**
   * Let users sign in with a recovery code ("Try another way"). Keycloak ships the Recovery
   * Authentication Code Form disabled in the browser flow, and the account console offers
   * recovery codes only for credential types some flow uses.
   */
  recoveryCodeLogin?: boolean;
  /**
   * Per required action (`delete_credential`, `CONFIGURE_TOTP`, ...): seconds after a login
   * before the action asks to sign in again (Keycloak's default is 300).
   */
  maxAuthAgeSeconds?: Readonly<Record<string, number>>;
  /** The realm's login theme (default keycloak.v2). */
  loginTheme?: string;
}

export interface UserOptions {
  requiredActions?: readonly string[];
}

interface FlowExecution {
  id: string;
  providerId?: string;
  requirement: string;
}

interface Credential {
  type: string;
}

export class KeycloakAdminApi {
  readonly #login: AdminLogin;

  constructor(login: AdminLogin) {
    this.#login = login;
  }

  /** A fresh admin access token (master realm, admin-cli); tokens live 60 s, so none is cached. */
  async adminToken(): Promise<string> {
    const body = new URLSearchParams({
      grant_type: 'password',
      client_id: 'admin-cli',
      username: this.#login.username,
      password: this.#login.password,
    });
    const response = await fetch(`${this.#login.url}/realms/master/protocol/openid-connect/token`, {
      method: 'POST',
      body,
    });
    await expectOk(response, 'admin token');
    const { access_token: token } = (await response.json()) as { access_token: string };
    return token;
  }

  async createRealm(realm: string, options: RealmOptions = {}): Promise<void> {
    await this.#call('POST', '/admin/realms', {
      realm,
      enabled: true,
      displayName: realm,
      ...(options.loginTheme ? { loginTheme: options.loginTheme } : {}),
    });
    if (options.recoveryCodeLogin)
      await this.#setBrowserFlowRequirement(realm, 'auth-recovery-authn-code-form', 'ALTERNATIVE');
    for (const [action, seconds] of Object.entries(options.maxAuthAgeSeconds ?? {})) {
      await this.#call('PUT', `/admin/realms/${enc(realm)}/authentication/required-actions/${enc(action)}/config`, {
        config: { max_auth_age: String(seconds) },
      });
    }
  }

  /**
   * A user who can sign in with a password; `requiredActions` (e.g. CONFIGURE_TOTP) are steps
   * Keycloak makes the user take at the next sign-in. Returns the id.
   */
  async createUser(realm: string, username: string, password: string, options: UserOptions = {}): Promise<string> {
    const response = await this.#call('POST', `/admin/realms/${enc(realm)}/users`, {
      username,
      enabled: true,
      email: `${username}@example.test`,
      emailVerified: true,
      firstName: username,
      lastName: 'Test',
      credentials: [{ type: 'password', value: password, temporary: false }],
      requiredActions: options.requiredActions ?? [],
    });
    const id = response.headers.get('location')?.split('/').at(-1);
    if (!id) throw new Error('Keycloak created the user but returned no Location header');
    return id;
  }

  /** Types of the user's stored credentials, e.g. ['password', 'otp', 'recovery-authn-codes']. */
  async credentialTypes(realm: string, username: string): Promise<string[]> {
    const id = await this.#userId(realm, username);
    const response = await this.#call('GET', `/admin/realms/${enc(realm)}/users/${id}/credentials`);
    return ((await response.json()) as Credential[]).map((credential) => credential.type);
  }

  async userHasOtp(realm: string, username: string): Promise<boolean> {
    return (await this.credentialTypes(realm, username)).includes('otp');
  }

  async #userId(realm: string, username: string): Promise<string> {
    const response = await this.#call('GET', `/admin/realms/${enc(realm)}/users?exact=true&username=${enc(username)}`);
    const [user] = (await response.json()) as { id: string }[];
    if (!user) throw new Error(`no user ${username} in realm ${realm}`);
    return user.id;
  }

  async #setBrowserFlowRequirement(realm: string, providerId: string, requirement: string): Promise<void> {
    const path = `/admin/realms/${enc(realm)}/authentication/flows/browser/executions`;
    const executions = (await (await this.#call('GET', path)).json()) as FlowExecution[];
    const execution = executions.find((e) => e.providerId === providerId);
    if (!execution) throw new Error(`the browser flow of realm ${realm} has no ${providerId} step`);
    await this.#call('PUT', path, { ...execution, requirement });
  }

  async #call(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${await this.adminToken()}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.#login.url}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    await expectOk(response, `${method} ${path.split('?')[0]}`);
    return response;
  }
}

async function expectOk(response: Response, what: string): Promise<void> {
  if (response.ok) return;
  const detail = (await response.text()).slice(0, 300);
  throw new Error(`Keycloak admin API ${what} answered ${response.status}: ${detail}`);
}

function enc(value: string): string {
  return encodeURIComponent(value);
}
