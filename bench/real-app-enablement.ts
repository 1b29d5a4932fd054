import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { allowedLoginHostsEnv } from '../connectors/sdk/deployment-hosts.ts';
import { connectors } from '../connectors/index.ts';
import { launchBrowser } from '../connectors/sdk/browser.ts';
import { createLogger } from '../core/logging/logger.ts';
import { FileResultSink } from '../operator/runner/file-sink.ts';
import { performRun } from '../operator/runner/run.ts';

/** A test instance of a self-hosted app, as test/apps/<app>/server.ts starts one. */
export interface BenchedApp {
  readonly loginUrl: string;
  readonly version: string;
  readonly startupMs: number;
  createUser(username: string, password: string): Promise<void>;
  stop(): Promise<void>;
}

export interface EnablementBench<App extends BenchedApp> {
  /** The connector id, also the name in the JSON. */
  readonly connector: string;
  readonly start: () => Promise<App>;
  /** The floor: the same enablement as a person's Playwright script drives it, for a fresh user. */
  readonly bare: (app: App, page: Page, username: string, password: string) => Promise<void>;
  readonly starts: number;
  readonly n: number;
}

/**
 * The shape of bench/allauth.ts and bench/gitea.ts: `starts` cold starts of the app, then `n` runner
 * enablements alternating with `n` bare ones, one shared Chromium, a fresh user each. Prints one JSON object.
 */
export async function benchEnablement<App extends BenchedApp>(bench: EnablementBench<App>): Promise<void> {
  process.env[allowedLoginHostsEnv(bench.connector)] = '127.0.0.1';
  const loadBefore = loadavg();
  const startupMs: number[] = [];
  for (let i = 0; i < bench.starts; i++) {
    const instance = await bench.start();
    startupMs.push(instance.startupMs);
    await instance.stop();
  }
  const dir = await mkdtemp(join(tmpdir(), `mfa-${bench.connector}-bench-`));
  const [app, browser] = await Promise.all([bench.start(), launchBrowser()]);
  const runnerMs: number[] = [];
  const bareMs: number[] = [];
  const stepMs: Record<string, number[]> = {};
  try {
    for (let i = 0; i < bench.n; i++) {
      runnerMs.push(await runnerEnablement(bench.connector, app, browser, dir, i, stepMs));
      bareMs.push(await bareEnablement(bench, app, browser, i));
    }
  } finally {
    await browser.close();
    await app.stop();
    await rm(dir, { recursive: true, force: true });
  }
  console.log(
    JSON.stringify({
      app: bench.connector,
      version: app.version,
      loadAverageBefore: loadBefore,
      loadAverageAfter: loadavg(),
      startupMs,
      medianStartupMs: median(startupMs),
      runs: runnerMs.length,
      runnerMs,
      bareMs,
      medianRunnerMs: median(runnerMs),
      medianBareMs: median(bareMs),
      overheadRatio: Number((median(runnerMs) / median(bareMs)).toFixed(2)),
      medianStepMs: Object.fromEntries(Object.entries(stepMs).map(([name, list]) => [name, median(list)])),
    }),
  );
}

async function runnerEnablement(
  connector: string,
  on: BenchedApp,
  shared: Browser,
  workDir: string,
  i: number,
  stepMs: Record<string, number[]>,
): Promise<number> {
  const username = `runner${i}`;
  await on.createUser(username, `pw-${i}-bench`);
  await writeFile(join(workDir, `u${i}`), username);
  await writeFile(join(workDir, `p${i}`), `pw-${i}-bench`);
  const started = Date.now();
  const summary = await performRun(
    {
      connector,
      loginUrl: on.loginUrl,
      action: 'enable',
      credentials: { usernameFile: join(workDir, `u${i}`), passwordFile: join(workDir, `p${i}`) },
      sink: { type: 'file', dir: join(workDir, `result${i}`) },
    },
    new FileResultSink(join(workDir, `result${i}`)),
    { connectors, browser: shared, logger: createLogger('bench', { level: 'silent' }) },
  );
  if (summary.outcome !== 'Enabled') throw new Error(`runner run ${i} ended ${summary.reason}: ${summary.message}`);
  for (const step of summary.steps) (stepMs[step.name] ??= []).push(step.durationMs);
  return Date.now() - started;
}

async function bareEnablement<App extends BenchedApp>(
  bench: EnablementBench<App>,
  on: App,
  shared: Browser,
  i: number,
): Promise<number> {
  const username = `bare${i}`;
  const password = `pw-${i}-bare`;
  await on.createUser(username, password);
  const started = Date.now();
  const context = await shared.newContext();
  try {
    await bench.bare(on, await context.newPage(), username, password);
  } finally {
    await context.close();
  }
  return Date.now() - started;
}

/** Enter in a field, and wait for the page the form's POST loads. */
/** Submits a form as a person does: Enter in `target` (a field), or a click on it (a button). */
export async function submit(page: Page, target: Locator, how: 'enter' | 'click' = 'enter'): Promise<void> {
  await Promise.all([page.waitForEvent('framenavigated'), how === 'enter' ? target.press('Enter') : target.click()]);
  await page.waitForLoadState('load');
}

function median(list: number[]): number {
  return [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] ?? 0;
}
