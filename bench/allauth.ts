/**
 * The allauth test site (test/apps/allauth): how long it takes to start, and one authenticator
 * enablement through the runner against the same enablement as a bare Playwright script (the
 * floor: sign in, confirm the password, read the key, type a code, read the recovery codes, with no
 * QR decode, cross-check, durable writes, window-edge waits or step logging). Runs alternate, one
 * shared Chromium, a fresh user each.
 *
 *   node bench/allauth.ts [--starts 3] [--n 5]
 *
 * Prints one JSON object. Run by hand; figures go to docs/benchmarks.md.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Secret, TOTP } from 'otpauth';
import type { Browser, Page } from 'playwright-core';
import { allowedLoginHostsEnv } from '../connectors/sdk/deployment-hosts.ts';
import { connectors } from '../connectors/index.ts';
import { launchBrowser } from '../connectors/sdk/browser.ts';
import { createLogger } from '../core/logging/logger.ts';
import { FileResultSink } from '../operator/runner/file-sink.ts';
import { performRun } from '../operator/runner/run.ts';
import { startAllauth, type AllauthServer } from '../test/apps/allauth/server.ts';

const { values } = parseArgs({ options: { starts: { type: 'string', default: '3' }, n: { type: 'string', default: '5' } } });
process.env[allowedLoginHostsEnv('allauth')] = '127.0.0.1';
const loadBefore = loadavg();

const startupMs: number[] = [];
for (let i = 0; i < Number(values.starts); i++) {
  const site = await startAllauth();
  startupMs.push(site.startupMs);
  await site.stop();
}

const dir = await mkdtemp(join(tmpdir(), 'mfa-allauth-bench-'));
const [site, browser] = await Promise.all([startAllauth(), launchBrowser()]);
const runnerMs: number[] = [];
const bareMs: number[] = [];
const stepMs: Record<string, number[]> = {};
try {
  for (let i = 0; i < Number(values.n); i++) {
    runnerMs.push(await runnerEnablement(site, browser, dir, i));
    bareMs.push(await bareEnablement(site, browser, i));
  }
} finally {
  await browser.close();
  await site.stop();
  await rm(dir, { recursive: true, force: true });
}

async function runnerEnablement(on: AllauthServer, shared: Browser, workDir: string, i: number): Promise<number> {
  const username = `runner${i}`;
  await on.createUser(username, `pw-${i}-bench`);
  await writeFile(join(workDir, `u${i}`), username);
  await writeFile(join(workDir, `p${i}`), `pw-${i}-bench`);
  const started = Date.now();
  const summary = await performRun({
    connector: 'allauth', loginUrl: on.loginUrl, action: 'enable',
    credentials: { usernameFile: join(workDir, `u${i}`), passwordFile: join(workDir, `p${i}`) },
    sink: { type: 'file', dir: join(workDir, `result${i}`) },
  }, new FileResultSink(join(workDir, `result${i}`)), { connectors, browser: shared, logger: createLogger('bench', { level: 'silent' }) });
  if (summary.outcome !== 'Enabled') throw new Error(`runner run ${i} ended ${summary.reason}: ${summary.message}`);
  for (const step of summary.steps) (stepMs[step.name] ??= []).push(step.durationMs);
  return Date.now() - started;
}

/** The floor: the same pages as a person's script would drive them. */
async function bareEnablement(on: AllauthServer, shared: Browser, i: number): Promise<number> {
  const username = `bare${i}`;
  const password = `pw-${i}-bare`;
  await on.createUser(username, password);
  const started = Date.now();
  const context = await shared.newContext();
  try {
    const page = await context.newPage();
    await page.goto(on.loginUrl);
    await page.locator('input[name="login"]').fill(username);
    await page.locator('input[name="password"]').fill(password);
    await submit(page, page.locator('input[name="password"]'));
    await page.goto(`${on.url}/${on.urlPrefix}2fa/totp/activate/`);
    await page.locator('input[name="password"]').fill(password);
    await submit(page, page.locator('input[name="password"]'));
    const secret = await page.locator('#authenticator_secret').inputValue();
    for (let attempt = 0; !page.url().includes('/2fa/recovery-codes/') && attempt < 2; attempt++) {
      await page.locator('input[name="code"]').fill(TOTP.generate({ secret: Secret.fromBase32(secret) }));
      await submit(page, page.locator('input[name="code"]'));
    }
    const codes = (await page.locator('textarea#recovery_codes').inputValue()).split(/\s+/).filter(Boolean);
    if (codes.length === 0) throw new Error(`bare run ${i} saw no recovery codes`);
  } finally {
    await context.close();
  }
  return Date.now() - started;
}

async function submit(page: Page, field: ReturnType<Page['locator']>): Promise<void> {
  await Promise.all([page.waitForEvent('framenavigated'), field.press('Enter')]);
  await page.waitForLoadState('load');
}

const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] ?? 0;
console.log(JSON.stringify({
  app: 'allauth', version: site.version, loadAverageBefore: loadBefore, loadAverageAfter: loadavg(),
  startupMs, medianStartupMs: median(startupMs),
  runs: runnerMs.length, runnerMs, bareMs, medianRunnerMs: median(runnerMs), medianBareMs: median(bareMs),
  overheadRatio: Number((median(runnerMs) / median(bareMs)).toFixed(2)),
  medianStepMs: Object.fromEntries(Object.entries(stepMs).map(([name, list]) => [name, median(list)])),
}));
