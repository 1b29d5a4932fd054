import { describe, expect, it } from 'vitest';
import type { ManagedAccountMfa } from '../api/v1alpha1/types.generated.ts';
import { runObjects } from './run-objects.ts';
import { connectorEnvFrom, DEFAULT_RUNNER_SETTINGS, type RunnerSettings } from './runner-settings.ts';

function account(connector: string): ManagedAccountMfa {
  return {
    apiVersion: 'mfa-operator.io/v1alpha1',
    kind: 'ManagedAccountMfa',
    metadata: { name: 'acct', namespace: 'team-a', uid: '5f0c7d2e-0000-4000-8000-000000000001', generation: 1 },
    spec: { connector, account: { credentialsSecretRef: { name: 'acct-login' } } },
  } as ManagedAccountMfa;
}

function runnerEnv(connector: string, settings: RunnerSettings): { name: string; value?: string }[] {
  const { job } = runObjects({
    mfa: account(connector),
    trigger: 'SpecChanged',
    settings,
    run: {
      accountName: 'acct',
      accountUid: '5f0c7d2e-0000-4000-8000-000000000001',
      action: 'enable',
      generation: 1,
      attempt: 1,
    },
  });
  return job.spec!.template.spec!.containers[0]!.env!;
}

describe('connector settings in run Jobs', () => {
  // What connectors/index.ts declares for Keycloak; automation takes it as data and imports no connector.
  const connectorSettingsEnv = { keycloak: ['MFA_KEYCLOAK_ALLOWED_LOGIN_HOSTS'] };
  const settings: RunnerSettings = {
    ...DEFAULT_RUNNER_SETTINGS,
    image: 'runner:1',
    connectorEnv: connectorEnvFrom(connectorSettingsEnv, {
      MFA_KEYCLOAK_ALLOWED_LOGIN_HOSTS: 'sso.example.com,*.corp.example',
      UNRELATED: 'x',
    }),
  };

  it('gives a Keycloak run the allowed hosts the controller was configured with', () => {
    expect(runnerEnv('keycloak', settings)).toContainEqual({
      name: 'MFA_KEYCLOAK_ALLOWED_LOGIN_HOSTS',
      value: 'sso.example.com,*.corp.example',
    });
  });

  it("gives another connector's run none of it, and an unset setting is not invented", () => {
    expect(runnerEnv('demo', settings).map((e) => e.name)).toEqual(['HOME', 'TMPDIR']);
    const unset = { ...settings, connectorEnv: connectorEnvFrom(connectorSettingsEnv, {}) };
    expect(runnerEnv('keycloak', unset).map((e) => e.name)).toEqual(['HOME', 'TMPDIR']);
  });
});

describe('a run and the code service (issue 11, item 8)', () => {
  const settings: RunnerSettings = { ...DEFAULT_RUNNER_SETTINGS, image: 'runner:1' };
  const run = {
    accountName: 'acct',
    accountUid: '5f0c7d2e-0000-4000-8000-000000000001',
    action: 'rotate' as const,
    generation: 1,
    attempt: 1,
  };
  const codeService = {
    url: 'https://codes.mfa-operator-system.svc',
    caBundle: '-----BEGIN CERTIFICATE-----\nCA\n',
    audience: 'mfa-operator.io/code-service',
  };

  it("mounts a pod-bound token for the code service's audience only, short-lived, and names the service in the run spec", () => {
    const { job, resultSecret } = runObjects({ mfa: account('demo'), trigger: 'Rotate', settings, run, codeService });

    const pod = job.spec!.template.spec!;
    expect(pod.volumes).toContainEqual({
      name: 'code-service-token',
      projected: {
        defaultMode: 0o400,
        sources: [
          {
            serviceAccountToken: {
              audience: 'mfa-operator.io/code-service',
              expirationSeconds: 600,
              path: 'token',
            },
          },
        ],
      },
    });
    expect(pod.containers[0]!.volumeMounts).toContainEqual({
      name: 'code-service-token',
      mountPath: '/var/run/mfa-operator/code-service',
      readOnly: true,
    });
    const spec = JSON.parse(Buffer.from(resultSecret.data!['run-spec.json']!, 'base64').toString('utf8'));
    expect(spec.codeService).toEqual({
      ...codeService,
      audience: undefined,
      tokenFile: '/var/run/mfa-operator/code-service/token',
      namespace: 'team-a',
      job: job.metadata!.name,
    });
    expect(Object.keys(resultSecret.data!)).toEqual(['run-spec.json']);
  });

  it('mounts no such token when the code service does not serve runs', () => {
    const { job } = runObjects({
      mfa: account('demo'),
      trigger: 'SpecChanged',
      settings,
      run: { ...run, action: 'enable' },
    });

    expect(job.spec!.template.spec!.volumes!.map((v) => v.name)).toEqual(['credentials', 'run', 'tmp']);
  });
});
