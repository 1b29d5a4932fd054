import { describe, expect, it } from 'vitest';
import type { ManagedAccountMfa } from '../api/v1alpha1/types.generated.ts';
import { runObjects } from '../automation/run-objects.ts';
import { DEFAULT_RUNNER_SETTINGS } from '../automation/runner-settings.ts';
import { RESULT_KEYS } from './result-secret.ts';
import { InvalidRunSpecError, RUN_CONTRACT_VERSION, validateRunSpec } from './run-spec.ts';

const mfa = {
  apiVersion: 'mfa-operator.io/v1alpha1',
  kind: 'ManagedAccountMfa',
  metadata: { name: 'acct', namespace: 'team-a', uid: '5f0c7d2e-0000-4000-8000-000000000001', generation: 1 },
  spec: {
    connector: 'keycloak',
    account: { loginUrl: 'https://sso.example.com/realms/a', credentialsSecretRef: { name: 'acct-login' } },
  },
} as ManagedAccountMfa;

/** The run spec exactly as the controller writes it into a result Secret. */
function controllerSpec(): Record<string, unknown> {
  const { resultSecret } = runObjects({
    mfa,
    trigger: 'Rotate',
    settings: { ...DEFAULT_RUNNER_SETTINGS, image: 'runner:1' },
    run: { accountName: 'acct', accountUid: mfa.metadata.uid!, action: 'rotate', generation: 1, attempt: 1 },
    caBundle: { pem: '-----BEGIN CERTIFICATE-----\nCA\n', resourceVersion: '7' },
    codeService: { url: 'https://codes.mfa-operator-system.svc', audience: 'mfa-operator.io/code-service' },
  });
  return JSON.parse(Buffer.from(resultSecret.data![RESULT_KEYS.runSpec]!, 'base64').toString('utf8')) as Record<
    string,
    unknown
  >;
}

describe('the run spec, from the controller to the runner', () => {
  it('what the controller writes is what the runner accepts, with the contract version', () => {
    const spec = controllerSpec();

    expect(validateRunSpec(spec)).toEqual(spec);
    expect(spec).toMatchObject({
      contractVersion: RUN_CONTRACT_VERSION,
      action: 'rotate',
      sink: { type: 'kubernetes', namespace: 'team-a' },
    });
  });

  it.each<[string, (spec: Record<string, unknown>) => void, RegExp]>([
    [
      'a newer contract',
      (s) => {
        s.contractVersion = RUN_CONTRACT_VERSION + 1;
      },
      /contractVersion 2 is not one this runner knows/,
    ],
    [
      'no connector',
      (s) => {
        delete s.connector;
      },
      /: connector must be a non-empty string/,
    ],
    [
      'an unknown action',
      (s) => {
        s.action = 'explode';
      },
      /action must be one of enable, disable, verify, rotate, adopt/,
    ],
    [
      'a number for a login URL',
      (s) => {
        s.loginUrl = 7;
      },
      /: loginUrl must be a non-empty string/,
    ],
    [
      'credentials as text',
      (s) => {
        s.credentials = 'u:p';
      },
      /credentials must be a JSON object/,
    ],
    [
      'no password file',
      (s) => {
        delete (s.credentials as Record<string, unknown>).passwordFile;
      },
      /credentials\.passwordFile must be a non-empty string/,
    ],
    [
      'a sink of another kind',
      (s) => {
        s.sink = { type: 'vault' };
      },
      /sink\.type must be "file" or "kubernetes"/,
    ],
    [
      'a Secret sink without its name',
      (s) => {
        delete (s.sink as Record<string, unknown>).secretName;
      },
      /sink\.secretName must be a non-empty string/,
    ],
    [
      'a plain-HTTP code service',
      (s) => {
        (s.codeService as Record<string, unknown>).url = 'http://codes';
      },
      /codeService\.url must be an https URL/,
    ],
    [
      'a code service without its Job',
      (s) => {
        delete (s.codeService as Record<string, unknown>).job;
      },
      /codeService\.job must be a non-empty string/,
    ],
    [
      'a timeout in words',
      (s) => {
        s.timeouts = { actionMs: 'ten seconds' };
      },
      /timeouts\.actionMs must be a whole number of milliseconds/,
    ],
    [
      'a negative timeout',
      (s) => {
        s.timeouts = { navigationMs: -1 };
      },
      /timeouts\.navigationMs must be a whole number/,
    ],
    [
      'a CA bundle as a list',
      (s) => {
        s.caBundle = ['pem'];
      },
      /: caBundle must be a non-empty string/,
    ],
  ])('refuses %s, naming the field', (_name, spoil, problem) => {
    const spec = controllerSpec();
    spoil(spec);

    expect(() => validateRunSpec(spec)).toThrow(InvalidRunSpecError);
    expect(() => validateRunSpec(spec)).toThrow(problem);
  });

  it('refuses what is not an object at all', () => {
    for (const value of [null, [], 'spec', 42])
      expect(() => validateRunSpec(value)).toThrow(/the run spec must be a JSON object/);
  });

  it('accepts a hand-written spec without a contract version', () => {
    const spec = controllerSpec();
    delete spec.contractVersion;

    expect(validateRunSpec(spec).connector).toBe('keycloak');
  });
});
