// Measures a full authenticator enablement against the local Keycloak: the runner with the
// keycloak connector, one shared Chromium, a fresh user per run, file-backed sink.
// Usage: node bench/keycloak-enable.ts [runs]   (prints one JSON object)
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectors } from '../connectors/index.ts';
import { allowedLoginHostsEnv } from '../connectors/sdk/deployment-hosts.ts';
import { launchBrowser } from '../connectors/sdk/browser.ts';
import { createLogger } from '../core/logging/logger.ts';
import { FileResultSink } from '../operator/runner/file-sink.ts';
import { performRun } from '../operator/runner/run.ts';
import { startKeycloak } from '../test/apps/keycloak/server.ts';

const runs = Number(process.argv[2] ?? 3);
const realm = 'bench';
process.env[allowedLoginHostsEnv('keycloak')] = '127.0.0.1';

const dir = await mkdtemp(join(tmpdir(), 'mfa-keycloak-bench-'));
const keycloak = await startKeycloak();
const browser = await launchBrowser();
const enableMs: number[] = [];
const stepMs: Record<string, number[]> = {};
try {
  await keycloak.createRealm(realm, { recoveryCodeLogin: true });
  for (let i = 0; i < runs; i++) {
    const username = `bench${i}`;
    await keycloak.createUser(realm, username, `pw-${i}-bench`);
    await writeFile(join(dir, `u${i}`), username);
    await writeFile(join(dir, `p${i}`), `pw-${i}-bench`);
    const started = Date.now();
    const summary = await performRun(
      {
        connector: 'keycloak',
        loginUrl: `${keycloak.url}/realms/${realm}/account`,
        action: 'enable',
        credentials: { usernameFile: join(dir, `u${i}`), passwordFile: join(dir, `p${i}`) },
        sink: { type: 'file', dir: join(dir, `result${i}`) },
        // As in the end-to-end test: a cold Keycloak on a busy 2-core machine needs more than the defaults.
        timeouts: { navigationMs: 60_000, actionMs: 20_000 },
      },
      new FileResultSink(join(dir, `result${i}`)),
      { connectors, browser, logger: createLogger('bench', { level: 'silent' }) },
    );
    if (summary.outcome !== 'Enabled') throw new Error(`run ${i} ended ${summary.reason}: ${summary.message}`);
    enableMs.push(Date.now() - started);
    for (const step of summary.steps) (stepMs[step.name] ??= []).push(step.durationMs);
  }
} finally {
  await browser.close();
  await keycloak.stop();
  await rm(dir, { recursive: true, force: true });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
console.log(
  JSON.stringify({
    app: 'keycloak',
    version: keycloak.version,
    startupMs: keycloak.startupMs,
    runs,
    enableMs,
    medianEnableMs: median(enableMs),
    medianStepMs: Object.fromEntries(Object.entries(stepMs).map(([name, values]) => [name, median(values)])),
  }),
);
