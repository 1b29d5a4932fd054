/**
 * Enablement speed against the demo app: the runner's flow vs the same flow as a bare Playwright
 * script (the floor), so the runner's overhead (QR decode, cross-check, durable writes, window-edge
 * waits, step logging) shows as a ratio. Browser start is measured on its own.
 *
 *   node bench/enroll.ts [--n 20]
 *
 * The two flows take turns going first, and besides the ratio of the medians the bench prints the
 * median of each iteration's ratio, which a machine that speeds up or slows down during the run
 * does not move (the runner's wait for a fresh TOTP window, in about one run in six, is one of the
 * outliers a median leaves out).
 * Prints one JSON object. Run by hand; figures go to docs/benchmarks.md.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Browser } from 'playwright-core';
import { startDemoApp } from '../test/apps/demo/demo-app.ts';
import { bareEnrollment } from './enroll-floor.ts';
import { median } from './stats.ts';
import { connectors } from '../connectors/index.ts';
import { launchBrowser } from '../connectors/sdk/browser.ts';
import { createLogger } from '../core/logging/logger.ts';
import { FileResultSink } from '../operator/runner/file-sink.ts';
import { performRun } from '../operator/runner/run.ts';

const { values } = parseArgs({ options: { n: { type: 'string', default: '20' } } });
const N = Number(values.n);
const silent = createLogger('bench', { level: 'silent' });

function stats(samplesMs: number[]): { n: number; medianS: number; p95S: number; minS: number; maxS: number } {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
  const s = (ms: number) => Math.round(ms) / 1000;
  return {
    n: sorted.length,
    medianS: s(at(0.5)),
    p95S: s(at(0.95)),
    minS: s(sorted[0] ?? NaN),
    maxS: s(sorted.at(-1) ?? NaN),
  };
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

async function main(): Promise<void> {
  const app = await startDemoApp({ logger: silent });
  const dir = await mkdtemp(join(tmpdir(), 'bench-enroll-'));
  const browserStartMs: number[] = [];
  let browser: Browser | undefined;
  for (let i = 0; i < 3; i++) {
    await browser?.close();
    browserStartMs.push(
      await timed(async () => {
        browser = await launchBrowser();
      }),
    );
  }
  const runnerMs: number[] = [];
  const stepMs = new Map<string, number[]>();
  const bareMs: number[] = [];
  for (let i = 0; i < N; i++) {
    const password = `bench-password-${i}`;
    app.accounts.upsert({ email: `runner${i}@example.com`, password });
    app.accounts.upsert({ email: `bare${i}@example.com`, password });
    await writeFile(join(dir, `u${i}`), `runner${i}@example.com`);
    await writeFile(join(dir, `p${i}`), password);
    const spec = {
      connector: 'demo',
      action: 'enable' as const,
      loginUrl: `${app.url}/login`,
      credentials: { usernameFile: join(dir, `u${i}`), passwordFile: join(dir, `p${i}`) },
      sink: { type: 'file' as const, dir: join(dir, `r${i}`) },
    };
    const runner = async () => {
      const summary = await performRun(spec, new FileResultSink(spec.sink.dir), {
        connectors,
        logger: silent,
        browser: browser!,
      });
      if (summary.outcome !== 'Enabled') throw new Error(`runner run ${i} ended ${summary.reason}`);
      for (const step of summary.steps) stepMs.set(step.name, [...(stepMs.get(step.name) ?? []), step.durationMs]);
    };
    const bare = async () => {
      const context = await browser!.newContext();
      await bareEnrollment(await context.newPage(), app.url, `bare${i}@example.com`, password);
      await context.close();
    };
    if (i % 2 === 0) {
      runnerMs.push(await timed(runner));
      bareMs.push(await timed(bare));
    } else {
      bareMs.push(await timed(bare));
      runnerMs.push(await timed(runner));
    }
  }
  await browser?.close();
  await app.stop();
  await rm(dir, { recursive: true, force: true });
  const runner = stats(runnerMs);
  const bare = stats(bareMs);
  process.stdout.write(
    `${JSON.stringify(
      {
        benchmark: 'enroll',
        enablements: N,
        browserStart: stats(browserStartMs),
        runnerFlow: runner,
        barePlaywrightFlow: bare,
        overheadRatioMedian: Math.round((runner.medianS / bare.medianS) * 100) / 100,
        overheadRatioP95: Math.round((runner.p95S / bare.p95S) * 100) / 100,
        overheadRatioMedianOfPairs: Math.round(median(runnerMs.map((ms, i) => ms / bareMs[i]!)) * 100) / 100,
        runnerStepMedianS: Object.fromEntries([...stepMs].map(([name, samples]) => [name, stats(samples).medianS])),
      },
      null,
      2,
    )}\n`,
  );
}

await main();
