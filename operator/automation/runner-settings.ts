import { readFileSync } from 'node:fs';
import type { V1ResourceRequirements, V1Toleration } from '@kubernetes/client-node';
import { parse } from 'yaml';

/** How run Jobs are shaped and paced; from --runner-config (YAML or JSON), every field optional. */
export interface RunnerSettings {
  image: string;
  imagePullPolicy?: string;
  command: string[];
  workingDir: string;
  activeDeadlineSeconds: number;
  ttlSecondsAfterFinished: number;
  resources: V1ResourceRequirements;
  nodeSelector?: Record<string, string>;
  tolerations?: V1Toleration[];
  /** Runs at once across the cluster, and per connector (one app is not hit by many logins at once). */
  maxConcurrentRuns: number;
  maxConcurrentRunsPerConnector: number;
  /** Attempts per generation before a transient failure becomes permanent. */
  maxAttempts: number;
  retryBaseSeconds: number;
  retryMaxSeconds: number;
  /** Per connector id, the admin's connector settings each of its run Jobs gets as environment (see connectorEnvFrom). */
  connectorEnv?: Record<string, { name: string; value: string }[]>;
}

export const DEFAULT_RUNNER_SETTINGS: Omit<RunnerSettings, 'image'> = {
  command: ['node', 'dist/operator/runner/main.js'],
  workingDir: '/app',
  activeDeadlineSeconds: 600,
  ttlSecondsAfterFinished: 86_400,
  resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '1Gi' } },
  maxConcurrentRuns: 4,
  maxConcurrentRunsPerConnector: 2,
  maxAttempts: 5,
  retryBaseSeconds: 30,
  retryMaxSeconds: 3600,
};

const NUMBERS = [
  'activeDeadlineSeconds',
  'ttlSecondsAfterFinished',
  'maxConcurrentRuns',
  'maxConcurrentRunsPerConnector',
  'maxAttempts',
  'retryBaseSeconds',
  'retryMaxSeconds',
] as const;

export function loadRunnerSettings(image: string, file?: string): RunnerSettings {
  const fromFile = file ? ((parse(readFileSync(file, 'utf8')) ?? {}) as Partial<RunnerSettings>) : {};
  const settings: RunnerSettings = { ...DEFAULT_RUNNER_SETTINGS, ...fromFile, image: fromFile.image ?? image };
  for (const key of NUMBERS) {
    const value = settings[key];
    if (!Number.isInteger(value) || value <= 0)
      throw new Error(`--runner-config ${file}: ${key} must be a whole number > 0, got ${JSON.stringify(value)}`);
  }
  if (!settings.image)
    throw new Error('the runner image is not set: pass --runner-image or set image in --runner-config');
  return settings;
}

/** The declared connector settings (connectors/index.ts) that are set in `env`, per connector id; non-secret by contract. */
export function connectorEnvFrom(
  declared: Readonly<Record<string, readonly string[]>>,
  env: NodeJS.ProcessEnv,
): Record<string, { name: string; value: string }[]> {
  return Object.fromEntries(
    Object.entries(declared).map(([id, names]) => [
      id,
      names.filter((name) => env[name] !== undefined).map((name) => ({ name, value: env[name]! })),
    ]),
  );
}
