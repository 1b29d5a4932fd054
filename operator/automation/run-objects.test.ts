import { describe, expect, it } from 'vitest';
import { connectorSettingsEnv } from '../../connectors/index.ts';
import type { ManagedAccountMfa } from '../api/v1alpha1/types.generated.ts';
import { runObjects } from './run-objects.ts';
import { connectorEnvFrom, DEFAULT_RUNNER_SETTINGS, type RunnerSettings } from './runner-settings.ts';

function account(connector: string): ManagedAccountMfa {
  return {
    apiVersion: 'mfa-operator.io/v1alpha1', kind: 'ManagedAccountMfa',
    metadata: { name: 'acct', namespace: 'team-a', uid: '5f0c7d2e-0000-4000-8000-000000000001', generation: 1 },
    spec: { connector, account: { credentialsSecretRef: { name: 'acct-login' } } },
  } as ManagedAccountMfa;
}

function runnerEnv(connector: string, settings: RunnerSettings): { name: string; value?: string }[] {
  const { job } = runObjects({
    mfa: account(connector), trigger: 'SpecChanged', settings,
    run: { accountName: 'acct', accountUid: '5f0c7d2e-0000-4000-8000-000000000001', action: 'enable', generation: 1, attempt: 1 },
  });
  return job.spec!.template.spec!.containers[0]!.env!;
}

describe('connector settings in run Jobs', () => {
  const settings: RunnerSettings = {
    ...DEFAULT_RUNNER_SETTINGS, image: 'runner:1',
    connectorEnv: connectorEnvFrom(connectorSettingsEnv, { MFA_KEYCLOAK_ALLOWED_LOGIN_HOSTS: 'sso.example.com,*.corp.example', UNRELATED: 'x' }),
  };

  it('gives a Keycloak run the allowed hosts the controller was configured with', () => {
    expect(runnerEnv('keycloak', settings)).toContainEqual({ name: 'MFA_KEYCLOAK_ALLOWED_LOGIN_HOSTS', value: 'sso.example.com,*.corp.example' });
  });

  it('gives another connector\'s run none of it, and an unset setting is not invented', () => {
    expect(runnerEnv('demo', settings).map((e) => e.name)).toEqual(['HOME', 'TMPDIR']);
    const unset = { ...settings, connectorEnv: connectorEnvFrom(connectorSettingsEnv, {}) };
    expect(runnerEnv('keycloak', unset).map((e) => e.name)).toEqual(['HOME', 'TMPDIR']);
  });
});
