import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The login theme a company might ship: keycloak.v2 with its own ids on the fields, the sign-in button and the setup page. */
export const RESTYLED_THEME = 'acme';

/** What the restyled theme renames, as `connectors.keycloak.selectors` must name it. */
export const RESTYLED_SELECTORS = {
  username: '#acme-username',
  password: '#acme-password',
  otp: '#acme-otp',
  recoveryCode: '#acme-recoveryCodeInput',
  signIn: '#acme-sign-in',
  totpQr: '#acme-qr',
  totpKey: '#acme-key',
  totpCode: '#acme-totp',
} as const;

/** Template edits, each of which must apply to the pinned release's templates (checked). */
const EDITS: Record<string, Array<[string, string]>> = {
  'field.ftl': [['<input id="${name}"', '<input id="acme-${name}"']],
  'buttons.ftl': [['id="kc-login"', 'id="acme-sign-in"']],
  'login-config-totp.ftl': [
    ['id="kc-totp-secret-qr-code"', 'id="acme-qr"'],
    ['id="kc-totp-secret-key"', 'id="acme-key"'],
    ['id="totp" name="totp"', 'id="acme-totp" name="totp"'],
  ],
};

/**
 * Writes the restyled theme into `themesDir` (Keycloak's theme folder for the run), built from the
 * release's own keycloak.v2 templates, read out of its themes jar with the JDK's `jar`.
 */
export async function writeRestyledTheme(home: string, javaHome: string, themesDir: string): Promise<void> {
  const version = (await readFile(join(home, 'version.txt'), 'utf8')).match(/\d+\.\d+\.\d+/)?.[0];
  const jar = join(home, 'lib', 'lib', 'main', `org.keycloak.keycloak-themes-${version}.jar`);
  const extracted = await mkdtemp(join(tmpdir(), 'mfa-keycloak-theme-'));
  try {
    const entries = Object.keys(EDITS).map((file) => `theme/keycloak.v2/login/${file}`);
    await run(join(javaHome, 'bin', 'jar'), ['xf', jar, ...entries], { cwd: extracted });
    const login = join(themesDir, RESTYLED_THEME, 'login');
    await mkdir(login, { recursive: true });
    await writeFile(join(login, 'theme.properties'), 'parent=keycloak.v2\nimport=common/keycloak\n');
    for (const [file, edits] of Object.entries(EDITS)) {
      const template = await readFile(join(extracted, 'theme', 'keycloak.v2', 'login', file), 'utf8');
      await writeFile(join(login, file), edited(template, edits, `keycloak.v2 ${file} of ${version}`));
    }
  } finally {
    await rm(extracted, { recursive: true, force: true });
  }
}

function edited(template: string, edits: Array<[string, string]>, what: string): string {
  return edits.reduce((text, [from, to]) => {
    if (!text.includes(from)) throw new Error(`${what} has no ${from}; update the restyled theme`);
    return text.replaceAll(from, to);
  }, template);
}
